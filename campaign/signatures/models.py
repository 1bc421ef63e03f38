from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.campaigns.models import enum_column
from campaign.db import PublicIdMixin, TimestampMixin, UTCDateTime
from campaign.extensions import db


class Supporter(PublicIdMixin, TimestampMixin, db.Model):
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


class SignatureDemand(db.Model):
    """A demand the signer said they back, when the petition lets signers choose."""

    __tablename__ = "signature_demands"

    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), primary_key=True)
    demand_id: Mapped[int] = mapped_column(
        ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True, index=True)


class DemandCountShard(db.Model):
    """Confirmed backers of a demand, kept like the petitions' counts (see COUNT_SHARDS)."""

    __tablename__ = "demand_count_shards"

    demand_id: Mapped[int] = mapped_column(
        ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)


class SignatureStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    INVALIDATED = "invalidated"


class Signature(PublicIdMixin, TimestampMixin, db.Model):
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
    # None once the signature is anonymised (see campaign.privacy.retention): it still
    # counts, by country and postal-code area, but no longer says whose it was.
    supporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True, nullable=True)
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
    # Which version of the petition's text the signer saw.
    petition_version: Mapped[int] = mapped_column(Integer, default=1)
    # Where the signer came from: the sign link's source/utm_* and the referrer's host.
    utm_source: Mapped[str] = mapped_column(String(100), default="")
    utm_medium: Mapped[str] = mapped_column(String(100), default="")
    utm_campaign: Mapped[str] = mapped_column(String(100), default="")
    referrer_host: Mapped[str] = mapped_column(String(255), default="")
    # Moderation.
    is_comment_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    invalidated_reason: Mapped[str] = mapped_column(Text, default="")
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    petition = relationship("Petition")
    supporter = relationship("Supporter")
