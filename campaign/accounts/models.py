from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.campaigns.models import enum_column
from campaign.db import TimestampMixin, UTCDateTime
from campaign.extensions import db


class UserRole(StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"


class User(UserMixin, TimestampMixin, db.Model):
    """An organizer or an administrator. Supporters have no account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[UserRole] = mapped_column(enum_column(UserRole, "user_role"),
                                           default=UserRole.ORGANIZER)
    # Empty until the invitee sets a password through their invitation link.
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session's identity: changing it (deactivation, a password
    # change, a reset) ends every session opened before.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def is_active(self):
        return self.is_active_account

    @property
    def is_admin(self):
        return self.role == UserRole.ADMIN

    def get_id(self):
        return f"{self.id}:{self.session_version}"


class TokenPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
    EMAIL_CHANGE = "email_change"


class AccountToken(TimestampMixin, db.Model):
    """A single-use, expiring link sent by email: invitation, password reset, email change."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # For an email change: the address that receives the link and becomes the new one.
    new_email: Mapped[str] = mapped_column(String(320), default="")

    user: Mapped[User] = relationship()


class AuditEntry(db.Model):
    """Who did what, when and why: moderation, account and campaign decisions.

    Holds no supporter's personal data beyond ids, so it can outlive an erasure.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                 nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(50))
    # What was acted on, e.g. ("signature", 42) or ("campaign", 3); the campaign
    # lets organizers read the entries of their own campaigns.
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()
