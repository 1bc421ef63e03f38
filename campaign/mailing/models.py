from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.campaigns.models import enum_column
from campaign.db import TimestampMixin, UTCDateTime
from campaign.extensions import db


class SubscriptionStatus(StrEnum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"


class Subscription(TimestampMixin, db.Model):
    """A supporter on a campaign's mailing list, with the record of their consent."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("supporter_id", "campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_column(SubscriptionStatus, "subscription_status"),
        default=SubscriptionStatus.SUBSCRIBED)
    # Exactly what the supporter agreed to, when, and through which form.
    consent_wording: Mapped[str] = mapped_column(Text)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_source: Mapped[str] = mapped_column(String(200))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    supporter = relationship("Supporter")


class MailingStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"    # waits for scheduled_at
    SENDING = "sending"        # audience frozen; batches at work
    PAUSED = "paused"          # by its organizer; resumable
    SENT = "sent"              # every delivery settled
    CANCELLED = "cancelled"    # a draft or scheduled mailing dropped


class Mailing(TimestampMixin, db.Model):
    """A message an organizer writes to (part of) a campaign's mailing list."""

    __tablename__ = "mailings"
    __table_args__ = (Index("ix_mailings_status_scheduled", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    # The organizer's name, shown as the From display name.
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    # Who it goes to, within the campaign's subscribers (see mailing.audience).
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[MailingStatus] = mapped_column(
        enum_column(MailingStatus, "mailing_status"), default=MailingStatus.DRAFT)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scheduled_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When batch jobs were last asked for: the periodic dispatch asks again only after
    # a batch's time budget, so the broker never fills up with idle batches.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Deliveries frozen when sending started: the progress page's denominator.
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)

    campaign = relationship("Campaign")
    author = relationship("User")


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"   # claimed by a batch; its message not yet finished
    SENT = "sent"
    FAILED = "failed"     # refused for good, or too many temporary failures
    SKIPPED = "skipped"   # unsubscribed or suppressed after the audience was frozen


class Delivery(db.Model):
    """One recipient of one mailing: the unit that is sent exactly once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("mailing_id", "supporter_id"),
        Index("ix_deliveries_mailing_status", "mailing_id", "status"),
        # A batch finds what it holds by its claim when it hands back the rest.
        Index("ix_deliveries_claim", "claim"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"))
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.QUEUED)
    # The batch that holds it while sending, and until when.
    claim: Mapped[str] = mapped_column(String(32), default="")
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SuppressionReason(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCES = "soft_bounces"
    COMPLAINT = "complaint"


class Suppression(TimestampMixin, db.Model):
    """An address no mailing goes to again: it bounced for good or its owner complained.

    Soft bounces are counted here too, and suppress from the third one."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[SuppressionReason | None] = mapped_column(
        enum_column(SuppressionReason, "suppression_reason"), nullable=True)
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    suppressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
