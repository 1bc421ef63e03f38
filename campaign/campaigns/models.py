from enum import StrEnum

from sqlalchemy import Column, Enum, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.db import PublicIdMixin, TimestampMixin, UTCDateTime
from campaign.extensions import db


def enum_column(enum_class, name):
    """A portable enum: a short string with a CHECK constraint, on SQLite and PostgreSQL alike."""
    return Enum(enum_class, name=name, native_enum=False, create_constraint=True, length=16,
                values_callable=lambda members: [member.value for member in members])


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


# Statuses the public may see: an archived campaign stays readable.
VISIBLE_CAMPAIGN_STATUSES = (CampaignStatus.PUBLISHED, CampaignStatus.ARCHIVED)


# The organizers of each campaign: whoever created it, and whoever they added.
campaign_organizers = Table(
    "campaign_organizers", db.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Campaign(PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT)
    published_at = mapped_column(UTCDateTime, nullable=True)
    share_image: Mapped[str] = mapped_column(String(100), default="")
    # Set when an administrator takes a campaign down for breaking the rules.
    unpublished_reason: Mapped[str] = mapped_column(Text, default="")

    organizers = relationship("User", secondary=campaign_organizers, order_by="User.id")

    demands: Mapped[list["Demand"]] = relationship(
        back_populates="campaign", order_by="Demand.position", cascade="all, delete-orphan")
    petitions = relationship("Petition", back_populates="campaign", order_by="Petition.id")

    @property
    def is_visible(self):
        return self.status in VISIBLE_CAMPAIGN_STATUSES

    @property
    def main_demand(self):
        return self.demands[0].text if self.demands else self.title


class SlugRedirect(db.Model):
    """A slug a campaign or petition used to have: its old links answer 301 to the new one."""

    __tablename__ = "slug_redirects"
    __table_args__ = (UniqueConstraint("kind", "old_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "campaign" or "petition"
    old_slug: Mapped[str] = mapped_column(String(80))
    target_id: Mapped[int] = mapped_column(Integer)


class Demand(db.Model):
    __tablename__ = "demands"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(300))

    campaign: Mapped[Campaign] = relationship(back_populates="demands")
