from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campaign.campaigns.models import enum_column
from campaign.db import TimestampMixin, UTCDateTime
from campaign.extensions import db


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboundEmail(TimestampMixin, db.Model):
    """One message in the outbox: written in the same transaction as the action
    that needs it, sent afterwards by a job, never lost to a broker outage.

    The row holds what the message is made from (template, language, context);
    the sending job renders it, so the request that asked for it does not pay
    for rendering, and keeps the rendered subject and bodies as a record.
    """

    __tablename__ = "outbound_emails"
    __table_args__ = (Index("ix_outbound_emails_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    to_address: Mapped[str] = mapped_column(String(320))
    template: Mapped[str] = mapped_column(String(50))
    locale: Mapped[str] = mapped_column(String(8))
    context: Mapped[dict] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[EmailStatus] = mapped_column(
        enum_column(EmailStatus, "email_status"), default=EmailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Files sent with the message: [{"filename", "content_type", "content"}], text only
    # (an event's .ics). Made when the row is written, like the message's context.
    attachments: Mapped[list] = mapped_column(JSON, default=list)
