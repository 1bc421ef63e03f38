from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.campaigns.models import enum_column
from campaign.db import UTCDateTime
from campaign.extensions import db


class ExportStatus(StrEnum):
    STREAMING = "streaming"      # the file is being sent
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"  # the download stopped part way (closed tab, lost connection)


class ExportRecord(db.Model):
    """Who downloaded which supporters' data, when, with which filters: one row per export.

    No personal data is kept here: filters and columns only, and how many rows went out.
    """

    __tablename__ = "export_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                 nullable=True, index=True)
    # Empty for an administrator's export of every campaign.
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True, index=True)
    # Not a foreign key: the record outlives the petition.
    petition_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(30))      # "signatures", "delivery_pack"
    format: Mapped[str] = mapped_column(String(10))    # "csv", "xlsx", "pdf"...
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    columns: Mapped[str] = mapped_column(Text, default="")
    row_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[ExportStatus] = mapped_column(
        enum_column(ExportStatus, "export_status"), default=ExportStatus.STREAMING)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    actor = relationship("User")
    campaign = relationship("Campaign")
