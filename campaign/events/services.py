"""Events: what organizers do to them, what the public may see of them, and their figures.

Functions here flush and never commit: the view, command or job that calls them
commits once. Lookups that take an id from a request go through
campaign.accounts.access first.
"""

import dataclasses
import math
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from campaign.campaigns.models import VISIBLE_CAMPAIGN_STATUSES, Campaign
from campaign.campaigns.services import available_slug, change_slug, slugify
from campaign.db import utcnow
from campaign.errors import DomainError
from campaign.events.models import (
    ACTIVE_RSVP_STATUSES,
    VISIBLE_EVENT_STATUSES,
    Event,
    EventKind,
    EventStatus,
    Rsvp,
    RsvpStatus,
)
from campaign.extensions import db
from campaign.links import public_url
from campaign.mail.services import queue_email
from campaign.petitions.models import Petition, PetitionStatus
from campaign.signatures.models import Signature, SignatureStatus

EVENTS_PER_PAGE = 20


class EventNotEditable(DomainError):
    status_code = 409


@dataclasses.dataclass(frozen=True)
class EventDetails:
    """What an organizer typed into the event form, checked for shape.

    ``starts_at``/``ends_at`` are aware datetimes (UTC or local); ``timezone`` is the
    IANA zone they are shown in. An empty ``slug`` means "make one from the title".
    ``status`` is draft or published: cancelling is :func:`cancel_event`.
    """

    title: str
    kind: EventKind
    timezone: str
    starts_at: datetime
    ends_at: datetime
    slug: str = ""
    description: str = ""
    venue_name: str = ""
    address: str = ""
    city: str = ""
    online_url: str = ""
    capacity: int | None = None
    accessibility: str = ""
    contact: str = ""
    status: EventStatus = EventStatus.DRAFT


# What attendees are told about when it changes: the time and the place.
_NOTIFIED_FIELDS = ("starts_at", "ends_at", "timezone", "venue_name", "address", "city", "online_url")


def _apply(event, details):
    event.title = details.title
    event.kind = EventKind(details.kind)
    event.description = details.description
    event.timezone = details.timezone
    event.starts_at = details.starts_at
    event.ends_at = details.ends_at
    event.venue_name = details.venue_name
    event.address = details.address
    event.city = details.city
    event.online_url = details.online_url
    event.capacity = details.capacity
    event.accessibility = details.accessibility
    event.contact = details.contact


def create_event(campaign, details):
    """A new event in ``campaign`` (already access-checked). Flushes."""
    event = Event(campaign=campaign, sequence=0,
                  slug=available_slug("event", details.slug or slugify(details.title, "event")))
    _apply(event, details)
    event.status = EventStatus(details.status)
    db.session.add(event)
    db.session.flush()
    return event


def update_event(event, details, *, now=None):
    """Save an organizer's changes. Flushes; returns the names of the changed fields that
    attendees are told about (time and place).

    When the time or place of a published event changes, every attendee with a
    place or on the waiting list gets an email, and calendars get a new SEQUENCE.
    A cancelled event is not edited (it would email people about an event that is off).
    """
    now = now or utcnow()
    if event.status == EventStatus.CANCELLED:
        raise EventNotEditable("cancelled events are not edited")
    before = {name: getattr(event, name) for name in _NOTIFIED_FIELDS}
    _apply(event, details)
    # Back to draft, attendees keep their places; only the public page goes.
    event.status = EventStatus(details.status)
    change_slug("event", event, details.slug or slugify(details.title, "event"))
    changed = tuple(name for name in _NOTIFIED_FIELDS if getattr(event, name) != before[name])
    if changed:
        event.sequence += 1
        if event.status == EventStatus.PUBLISHED and not event.is_past(now):
            for rsvp in _active_rsvps(event):
                _queue_event_email("event_changed", event, rsvp, changed=list(changed))
    db.session.flush()
    return changed


def cancel_event(event, *, now=None):
    """Call the event off: it stays listed, marked cancelled, and every attendee with a
    place or on the waiting list is told. Idempotent. Flushes."""
    now = now or utcnow()
    if event.status == EventStatus.CANCELLED:
        return event
    was_published = event.status == EventStatus.PUBLISHED
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now
    event.sequence += 1
    if was_published and not event.is_past(now):
        for rsvp in _active_rsvps(event):
            _queue_event_email("event_cancelled", event, rsvp)
    db.session.flush()
    return event


def _active_rsvps(event):
    return db.session.scalars(
        select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.status.in_(ACTIVE_RSVP_STATUSES))
        .options(joinedload(Rsvp.supporter)).order_by(Rsvp.id)
    ).all()


def _queue_event_email(template, event, rsvp, **extra):
    """One email about ``event`` to the person behind ``rsvp``, in their language."""
    from campaign.events.rsvps import email_context

    queue_email(template, rsvp.supporter.email, template, rsvp.locale,
                **email_context(event, rsvp), **extra)


# --- What the public sees -----------------------------------------------------------------------

def _visible_events():
    return (select(Event).join(Event.campaign)
            .where(Event.status.in_(VISIBLE_EVENT_STATUSES),
                   Campaign.status.in_(VISIBLE_CAMPAIGN_STATUSES))
            .options(joinedload(Event.campaign)))


def find_visible_event(slug):
    """The event at ``slug`` if the public may see it (with its campaign), or None."""
    return db.session.scalars(_visible_events().where(Event.slug == slug)).unique().one_or_none()


@dataclasses.dataclass(frozen=True)
class EventFilters:
    """The /events page's filters; empty values filter nothing."""

    campaign: str = ""   # a campaign's slug
    kind: str = ""
    city: str = ""
    online: bool = False
    past: bool = False


@dataclasses.dataclass(frozen=True)
class EventPage:
    events: list
    page: int
    pages: int
    total: int


def list_visible_events(filters, *, page=1, per_page=EVENTS_PER_PAGE, now=None):
    """One page of the public events: upcoming soonest first, or past (``filters.past``)
    latest first. An event is upcoming until it ends."""
    now = now or utcnow()
    query = _visible_events()
    if filters.past:
        query = query.where(Event.ends_at <= now).order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        query = query.where(Event.ends_at > now).order_by(Event.starts_at, Event.id)
    if filters.campaign:
        query = query.where(Campaign.slug == filters.campaign)
    if filters.kind in EventKind.__members__.values():
        query = query.where(Event.kind == filters.kind)
    if filters.city:
        query = query.where(func.lower(Event.city) == filters.city.strip().lower())
    if filters.online:
        query = query.where(or_(Event.kind == EventKind.ONLINE, Event.online_url != ""))
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    events = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).unique().all()
    return EventPage(events=events, page=page, pages=pages, total=total)


def list_event_cities():
    """The cities of upcoming public events, for the filter's choices."""
    now = utcnow()
    rows = db.session.scalars(
        _visible_events().with_only_columns(Event.city).distinct()
        .where(Event.ends_at > now, Event.city != "").order_by(Event.city))
    return list(rows)


def upcoming_campaign_events(campaign_id, *, now=None, limit=10):
    """The campaign's public events that have not ended, soonest first."""
    now = now or utcnow()
    return db.session.scalars(
        _visible_events().where(Event.campaign_id == campaign_id, Event.ends_at > now)
        .order_by(Event.starts_at, Event.id).limit(limit)
    ).unique().all()


def campaign_calendar_events(campaign_id, *, now=None, days_back=90):
    """What a campaign's calendar feed holds: its public events, upcoming and recent."""
    from datetime import timedelta

    now = now or utcnow()
    return db.session.scalars(
        _visible_events().where(Event.campaign_id == campaign_id,
                                Event.ends_at > now - timedelta(days=days_back))
        .order_by(Event.starts_at, Event.id)
    ).unique().all()


# --- Figures ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Attendance:
    confirmed_people: int   # confirmed RSVPs with their guests
    confirmed_rsvps: int
    waitlisted_people: int
    waitlisted_rsvps: int
    pending_rsvps: int
    checked_in_people: int

    def places_left(self, capacity):
        return None if capacity is None else max(0, capacity - self.confirmed_people)


def attendance(event):
    rows = db.session.execute(
        select(Rsvp.status, func.count(), func.coalesce(func.sum(Rsvp.guests), 0))
        .where(Rsvp.event_id == event.id).group_by(Rsvp.status)
    ).all()
    by_status = {status: (count, guests) for status, count, guests in rows}
    confirmed_rsvps, confirmed_guests = by_status.get(RsvpStatus.CONFIRMED, (0, 0))
    waitlisted_rsvps, waitlisted_guests = by_status.get(RsvpStatus.WAITLISTED, (0, 0))
    checked_in = db.session.scalar(
        select(func.coalesce(func.sum(1 + Rsvp.guests), 0))
        .where(Rsvp.event_id == event.id, Rsvp.checked_in_at.is_not(None)))
    return Attendance(
        confirmed_people=confirmed_rsvps + confirmed_guests, confirmed_rsvps=confirmed_rsvps,
        waitlisted_people=waitlisted_rsvps + waitlisted_guests, waitlisted_rsvps=waitlisted_rsvps,
        pending_rsvps=by_status.get(RsvpStatus.PENDING, (0, 0))[0],
        checked_in_people=checked_in)


def event_source(event):
    """The ``source`` the picket sign's QR code gives the signatures it brings."""
    return f"event-{event.slug}"


def sign_petition_for(campaign):
    """The petition a picket sign sends people to: the campaign's first open one, else its first."""
    petitions = db.session.scalars(
        select(Petition).where(Petition.campaign_id == campaign.id).order_by(Petition.id)).all()
    open_ones = [petition for petition in petitions if petition.status == PetitionStatus.OPEN]
    return (open_ones or petitions or [None])[0]


def picket_sign_url(event):
    """The address the picket sign's QR code opens, or None when the campaign has no petition."""
    petition = sign_petition_for(event.campaign)
    if petition is None:
        return None
    return public_url("petitions.show", slug=petition.slug, source=event_source(event))


@dataclasses.dataclass(frozen=True)
class QrSignatures:
    confirmed: int
    pending: int


def qr_signature_counts(event):
    """Signatures of the campaign's petitions that came through the event's QR code."""
    rows = db.session.execute(
        select(Signature.status, func.count())
        .join(Petition, Signature.petition_id == Petition.id)
        .where(Petition.campaign_id == event.campaign_id, Signature.source == event_source(event))
        .group_by(Signature.status)
    ).all()
    counts = dict(rows)
    return QrSignatures(confirmed=counts.get(SignatureStatus.CONFIRMED, 0),
                        pending=counts.get(SignatureStatus.PENDING, 0))


def list_campaign_events(campaign):
    """Every event of a campaign, for its organizers: newest start first."""
    return db.session.scalars(
        select(Event).where(Event.campaign_id == campaign.id)
        .order_by(Event.starts_at.desc(), Event.id.desc())
    ).all()
