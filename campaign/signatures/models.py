from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.campaigns.models import enum_column
from campaign.db import TimestampMixin, UTCDateTime
from campaign.extensions import db


class Supporter(TimestampMixin, db.Model):
    """One person, known by their email address. Names come from their confirmed signatures."""

    __tablename__ = "supporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The address as email-validator normalised it, and a lower-cased key for
    # uniqueness: no mail system in use treats local parts case-sensitively.
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")


class SignatureStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    INVALIDATED = "invalidated"


class Signature(TimestampMixin, db.Model):
    """A supporter's signature of one petition, with the details they gave when signing.

    Details stay on the signature until it is confirmed, so that somebody typing
    another person's address cannot change what that person's record says.
    """

    __tablename__ = "signatures"
    __table_args__ = (
        UniqueConstraint("petition_id", "supporter_id"),
        Index("ix_signatures_petition_status", "petition_id", "status"),
        Index("ix_signatures_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True)
    status: Mapped[SignatureStatus] = mapped_column(
        enum_column(SignatureStatus, "signature_status"), default=SignatureStatus.PENDING)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    country: Mapped[str] = mapped_column(String(2))
    comment: Mapped[str] = mapped_column(Text, default="")
    wants_updates: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_wording: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(100), default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    ip_hash: Mapped[str | None] = mapped_column(String(32), nullable=True)
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    petition = relationship("Petition")
    supporter = relationship("Supporter")
