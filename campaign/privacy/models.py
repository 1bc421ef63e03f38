from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from campaign.campaigns.models import enum_column
from campaign.db import TimestampMixin, UTCDateTime
from campaign.extensions import db


class LinkPurpose(StrEnum):
    SIGN_IN = "sign_in"   # open the supporter's own page
    ERASE = "erase"       # confirm an erasure asked for on that page


class SupporterLink(TimestampMixin, db.Model):
    """A link emailed to a supporter: single use, short-lived, stored only as a hash."""

    __tablename__ = "supporter_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(enum_column(LinkPurpose, "supporter_link_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
