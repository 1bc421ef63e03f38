from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.campaigns.models import CampaignStatus, enum_column
from campaign.db import PublicIdMixin, TimestampMixin, UTCDateTime, utcnow
from campaign.extensions import db

# Confirmations add to one of these rows at random, so a surge of signers does
# not queue on a single hot counter row; a page sums them with one indexed read.
COUNT_SHARDS = 16


class PetitionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Petition(PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "petitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[int] = mapped_column(Integer, default=1000)
    status: Mapped[PetitionStatus] = mapped_column(
        enum_column(PetitionStatus, "petition_status"), default=PetitionStatus.OPEN)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When an organizer (or archiving its campaign) last closed it; None while open.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Which optional sign-form fields this petition requires, e.g. ["postal_code"].
    required_fields: Mapped[list] = mapped_column(JSON, default=lambda: ["postal_code"])
    # The mailing-list box's wording; empty means the standard, translated one.
    consent_wording: Mapped[str] = mapped_column(Text, default="")
    # Signers tick which of the campaign's demands they back.
    signers_choose_demands: Mapped[bool] = mapped_column(Boolean, default=False)
    # The text signers see now; earlier versions stay with the signatures that saw them.
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    text_edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    campaign = relationship("Campaign", back_populates="petitions")

    def is_open(self, now):
        return petition_is_open(self.status, self.deadline_at, self.campaign.status, now)


def set_petition_status(petition, status, *, now=None):
    """Open or close ``petition``, remembering when it closed (its signers' personal data
    is anonymised a while after that)."""
    status = PetitionStatus(status)
    if status == PetitionStatus.CLOSED and petition.status != PetitionStatus.CLOSED:
        petition.closed_at = now or utcnow()
    elif status == PetitionStatus.OPEN:
        petition.closed_at = None
    petition.status = status


def petition_is_open(status, deadline_at, campaign_status, now):
    """Open to new signatures: open, before its deadline, in a published campaign."""
    return (status == PetitionStatus.OPEN
            and (deadline_at is None or now < deadline_at)
            and campaign_status == CampaignStatus.PUBLISHED)


class PetitionVersion(db.Model):
    """The petition's wording as signers saw it, kept when an organizer edits it."""

    __tablename__ = "petition_versions"
    __table_args__ = (UniqueConstraint("petition_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petitions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PetitionCountShard(db.Model):
    __tablename__ = "petition_count_shards"

    petition_id: Mapped[int] = mapped_column(
        ForeignKey("petitions.id", ondelete="CASCADE"), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
