from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.db import PublicIdMixin, TimestampMixin
from campaign.extensions import db

TAG_NAME_MAX = 100


class Tag(PublicIdMixin, TimestampMixin, db.Model):
    """A label one campaign's organizers put on supporters. Each campaign has its own
    tags: another campaign's "volunteer" is another tag, unseen by this one."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(TAG_NAME_MAX))

    campaign = relationship("Campaign")


class Tagging(PublicIdMixin, TimestampMixin, db.Model):
    """One supporter carrying one tag; erasing the supporter removes it."""

    __tablename__ = "taggings"
    __table_args__ = (UniqueConstraint("tag_id", "supporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"))
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True)

    tag: Mapped[Tag] = relationship()
    supporter = relationship("Supporter")
