from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaign.campaigns.models import CampaignStatus, enum_column
from campaign.db import PublicIdMixin, TimestampMixin, UTCDateTime
from campaign.extensions import db


class EventKind(StrEnum):
    PICKET = "picket"
    RALLY = "rally"
    VIGIL = "vigil"
    MARCH = "march"
    MEETING = "meeting"
    ONLINE = "online"


class EventStatus(StrEnum):
    """What organizers set. "Past" is not stored: an event is past once it has ended."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


# Statuses the public may see: a cancelled event stays up, marked, so that
# people who planned to come learn that it is off.
VISIBLE_EVENT_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)


class Event(PublicIdMixin, TimestampMixin, db.Model):
    """One gathering of a campaign. Times are stored in UTC and shown in ``timezone``,
    the IANA zone of the place where it happens (or the organizers', when online)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_status_starts", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "event_kind"))
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    # Shown only to confirmed attendees, on their RSVP page and in their emails.
    online_url: Mapped[str] = mapped_column(String(500), default="")
    # People, guests included; None means no limit.
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    accessibility: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[EventStatus] = mapped_column(
        enum_column(EventStatus, "event_status"), default=EventStatus.DRAFT)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # RFC 5545 SEQUENCE: raised whenever the time or place changes or the event is
    # cancelled, so calendars replace the copy they hold.
    sequence: Mapped[int] = mapped_column(Integer, default=0)

    campaign = relationship("Campaign")

    @property
    def is_online(self):
        return bool(self.online_url) and not self.venue_name and not self.address

    def is_past(self, now):
        return self.ends_at <= now

    def takes_rsvps(self, now):
        # An archived campaign stays readable, but its events take no more RSVPs,
        # as its petitions take no more signatures.
        return (self.status == EventStatus.PUBLISHED and self.ends_at > now
                and self.campaign.status == CampaignStatus.PUBLISHED)


class RsvpStatus(StrEnum):
    PENDING = "pending"        # waiting for the email link to be followed
    CONFIRMED = "confirmed"    # has a place
    WAITLISTED = "waitlisted"  # confirmed the address, waiting for a place
    CANCELLED = "cancelled"    # by the attendee


# Statuses that hold or wait for a place: the people the event's emails go to.
ACTIVE_RSVP_STATUSES = (RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED)


class Rsvp(PublicIdMixin, TimestampMixin, db.Model):
    """A supporter's answer to one event: one per person and event; answering again
    updates it."""

    __tablename__ = "rsvps"
    __table_args__ = (
        UniqueConstraint("event_id", "supporter_id"),
        Index("ix_rsvps_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True)
    status: Mapped[RsvpStatus] = mapped_column(
        enum_column(RsvpStatus, "rsvp_status"), default=RsvpStatus.PENDING)
    name: Mapped[str] = mapped_column(String(200))
    guests: Mapped[int] = mapped_column(Integer, default=0)
    wants_updates: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_wording: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    # One link serves to confirm, to see the RSVP and to cancel it. The link's token
    # is derived from this nonce and the SECRET_KEY, so every later email (reminder,
    # change of place) can carry the same link; the database alone gives no working
    # link, and a new nonce retires the old one.
    token_nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the address was confirmed onto the waiting list: its order.
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Each reminder is claimed by setting its column, in the transaction that
    # queues its email: a scheduler that runs twice finds nothing left to claim.
    reminded_early_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminded_late_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    event = relationship("Event")
    supporter = relationship("Supporter")

    @property
    def headcount(self):
        return 1 + self.guests
