"""RSVPs: answering an event with double opt-in, the waiting list, cancelling, check-in,
and the reminders.

Places are decided with the event's row locked, so concurrent confirmations and
cancellations of one event take turns and the confirmed headcount never exceeds
its capacity. Functions here flush and never commit; jobs are committed by
:func:`campaign.jobs.run_job`.
"""

import dataclasses
import secrets
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from campaign.api.webhooks import queue_webhooks
from campaign.db import insert_ignoring_conflicts, utcnow
from campaign.errors import DomainError
from campaign.events.calendar import calendar_for, event_filename, public_event_url
from campaign.events.models import Event, EventStatus, Rsvp, RsvpStatus
from campaign.extensions import db
from campaign.links import public_url
from campaign.mail.services import Attachment, queue_email
from campaign.mailing.services import record_consent
from campaign.security import hash_token, keyed_hash
from campaign.signatures.services import find_or_create_supporter_id

GUESTS_MAX = 10


class EventClosed(DomainError):
    """The event takes no RSVPs: not published, cancelled or over."""

    status_code = 409


class RsvpTokenInvalid(DomainError):
    status_code = 404


class RsvpTokenExpired(DomainError):
    """A pending RSVP's confirmation window has passed: RSVP again for a new link."""

    status_code = 410

    def __init__(self, rsvp):
        super().__init__("RSVP link expired")
        self.rsvp = rsvp


class NotEnoughPlaces(DomainError):
    status_code = 409

    def __init__(self, places_left):
        super().__init__("not enough places left")
        self.places_left = places_left


@dataclasses.dataclass(frozen=True)
class RsvpDetails:
    """What a visitor typed into the RSVP form, cleaned and checked for shape."""

    name: str
    email: str
    guests: int = 0
    wants_updates: bool = False
    consent_wording: str = ""
    locale: str = "en"


class RsvpOutcome(StrEnum):
    CREATED = "created"                         # new: confirmation email queued
    REMINDED = "reminded"                       # still pending (or cancelled): new link sent
    ALREADY_REGISTERED = "already_registered"   # has a place or waits for one: the email says so
    THROTTLED = "throttled"                     # an email went out moments ago
    CONFIRMED = "confirmed"                     # vouched for: placed at once, nothing sent


# --- Links --------------------------------------------------------------------------------------

def new_link_secret():
    nonce = secrets.token_hex(16)
    return nonce, hash_token(link_token(nonce))


def link_token(nonce_or_rsvp):
    """The token of an RSVP's link (give the RSVP or its nonce)."""
    nonce = getattr(nonce_or_rsvp, "token_nonce", nonce_or_rsvp)
    return keyed_hash(nonce, "rsvp-link")[:43]


def rsvp_url(rsvp):
    return public_url("events.rsvp_page", token=link_token(rsvp))


def find_rsvp_by_token(token, *, lock=False):
    """The RSVP a link points to (with its event and supporter), or None."""
    if not token or len(token) > 100:
        return None
    query = (select(Rsvp).where(Rsvp.token_hash == hash_token(token))
             .options(joinedload(Rsvp.event).joinedload(Event.campaign), joinedload(Rsvp.supporter)))
    if lock:
        query = query.with_for_update(of=Rsvp)
    return db.session.scalars(query).unique().one_or_none()


def confirmation_has_expired(rsvp, now):
    lifetime = timedelta(hours=current_app.config["CONFIRM_TOKEN_HOURS"])
    return now >= rsvp.token_issued_at + lifetime


# --- Emails -------------------------------------------------------------------------------------

def email_context(event, rsvp, *, with_online_url=False):
    """What the event emails show, as the event is when they are queued."""
    return {
        "event": {
            "title": event.title, "kind": str(event.kind), "starts_at": event.starts_at.isoformat(),
            "ends_at": event.ends_at.isoformat(), "timezone": event.timezone,
            "venue_name": event.venue_name, "address": event.address, "city": event.city,
            "online_url": event.online_url if with_online_url else "",
            "is_online": event.is_online, "accessibility": event.accessibility,
            "contact": event.contact, "url": public_event_url(event),
        },
        "campaign": {"title": event.campaign.title,
                     "url": public_url("campaigns.show", slug=event.campaign.slug)},
        "attendee_name": rsvp.name, "guests": rsvp.guests, "rsvp_url": rsvp_url(rsvp),
    }


def _calendar_attachment(event, *, with_online_url, now):
    return Attachment(filename=event_filename(event), content_type="text/calendar",
                      content=calendar_for([event], include_online_url=with_online_url,
                                           now=now).decode())


def queue_rsvp_email(template, event, rsvp, *, with_calendar=False, now=None, **extra):
    """An email about ``event`` to the person behind ``rsvp``, in their language.

    Only an attendee with a place is sent the online link (and the calendar entry
    that holds it)."""
    now = now or utcnow()
    with_online_url = rsvp.status == RsvpStatus.CONFIRMED
    attachments = [_calendar_attachment(event, with_online_url=with_online_url, now=now)] \
        if with_calendar else []
    queue_email(template, rsvp.supporter.email, template, rsvp.locale, attachments=attachments,
                **email_context(event, rsvp, with_online_url=with_online_url), **extra)


# --- Answering ----------------------------------------------------------------------------------

def rsvp_to_event(event, details, *, now=None, vouched=False):
    """Record ``details`` as a pending RSVP to ``event`` and email its confirmation link.

    One RSVP per person and event: answering again while pending (or after
    cancelling) updates it and sends a new link; answering again with a place
    (or on the waiting list) changes nothing and emails the RSVP's link, so a
    stranger cannot change someone's RSVP and the page reveals nothing. Raises
    :class:`EventClosed`. Flushes.

    ``vouched``: an organizer vouches for the attendee (through the API), so the RSVP
    takes a place, or a spot on the waiting list, at once and nothing is emailed; the
    outcome is then CONFIRMED or ALREADY_REGISTERED.
    """
    now = now or utcnow()
    if not event.takes_rsvps(now):
        raise EventClosed("event takes no RSVPs")
    supporter_id = find_or_create_supporter_id(details.email, details.locale)
    nonce, token_hash = new_link_secret()
    rsvp_id = insert_ignoring_conflicts(Rsvp, {
        "event_id": event.id, "supporter_id": supporter_id, "status": RsvpStatus.PENDING,
        "name": details.name, "guests": details.guests, "wants_updates": details.wants_updates,
        "consent_wording": details.consent_wording, "locale": details.locale,
        "token_nonce": nonce, "token_hash": token_hash, "token_issued_at": now,
        "last_emailed_at": now, "created_at": now, "updated_at": now,
    }, returning=Rsvp.id)
    rsvp = db.session.scalars(
        select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.supporter_id == supporter_id)
        .options(joinedload(Rsvp.supporter)).with_for_update(of=Rsvp)).unique().one()
    if rsvp_id is not None:
        if vouched:
            _take_place(rsvp, now, by_link=False)
            return RsvpOutcome.CONFIRMED
        queue_rsvp_email("rsvp_confirmation", event, rsvp, with_calendar=True, now=now,
                         hours=current_app.config["CONFIRM_TOKEN_HOURS"])
        return RsvpOutcome.CREATED

    interval = timedelta(seconds=current_app.config["RESEND_INTERVAL_SECONDS"])
    # A double click, or a quick correction: one email is enough.
    just_emailed = rsvp.last_emailed_at is not None and now - rsvp.last_emailed_at < interval
    if rsvp.status in (RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED):
        if vouched:
            return RsvpOutcome.ALREADY_REGISTERED
        if just_emailed:
            return RsvpOutcome.THROTTLED
        rsvp.last_emailed_at = now
        queue_rsvp_email("rsvp_already", event, rsvp, now=now)
        return RsvpOutcome.ALREADY_REGISTERED
    # Pending or cancelled: the latest answer wins.
    was_pending = rsvp.status == RsvpStatus.PENDING
    rsvp.status = RsvpStatus.PENDING
    rsvp.name = details.name
    rsvp.guests = details.guests
    rsvp.wants_updates = details.wants_updates
    rsvp.consent_wording = details.consent_wording
    rsvp.locale = details.locale
    rsvp.cancelled_at = None
    if vouched:
        db.session.flush()
        _take_place(rsvp, now, by_link=False)
        return RsvpOutcome.CONFIRMED
    if was_pending and just_emailed:
        # The link just sent confirms the corrected answer.
        db.session.flush()
        return RsvpOutcome.THROTTLED
    # Only the newest link works.
    rsvp.token_nonce, rsvp.token_hash = new_link_secret()
    rsvp.token_issued_at = now
    rsvp.last_emailed_at = now
    db.session.flush()
    queue_rsvp_email("rsvp_confirmation", event, rsvp, with_calendar=True, now=now,
                     hours=current_app.config["CONFIRM_TOKEN_HOURS"])
    return RsvpOutcome.REMINDED


def _lock_event(event_id):
    """The event, its row locked until commit: decisions about its places take turns."""
    return db.session.scalars(
        select(Event).where(Event.id == event_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def confirmed_headcount(event_id):
    return db.session.scalar(
        select(func.coalesce(func.sum(1 + Rsvp.guests), 0))
        .where(Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.CONFIRMED))


def _waitlist(event_id):
    return db.session.scalars(
        select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.WAITLISTED)
        .options(joinedload(Rsvp.supporter)).order_by(Rsvp.waitlisted_at, Rsvp.id)
    ).unique().all()


def _fits(event, headcount):
    return event.capacity is None or confirmed_headcount(event.id) + headcount <= event.capacity


def confirm_rsvp(token, *, now=None):
    """Confirm the RSVP behind ``token``: a place if one is left (nobody waiting ahead),
    else the waiting list. Idempotent: confirming again changes nothing. Records
    mailing-list consent if asked for. Raises :class:`RsvpTokenInvalid`,
    :class:`RsvpTokenExpired` or :class:`EventClosed`. Flushes."""
    now = now or utcnow()
    rsvp = find_rsvp_by_token(token, lock=True)
    if rsvp is None:
        raise RsvpTokenInvalid("unknown RSVP link")
    if rsvp.status != RsvpStatus.PENDING:
        return rsvp
    if confirmation_has_expired(rsvp, now):
        raise RsvpTokenExpired(rsvp)
    event = _take_place(rsvp, now)
    template = "rsvp_confirmed" if rsvp.status == RsvpStatus.CONFIRMED else "rsvp_waitlisted"
    queue_rsvp_email(template, event, rsvp, with_calendar=rsvp.status == RsvpStatus.CONFIRMED,
                     now=now)
    return rsvp


def _take_place(rsvp, now, *, by_link=True):
    """Give a pending RSVP a place if one is left (nobody waiting ahead), else a spot on the
    waiting list, whoever vouches for it (the attendee's link, or an organizer). Returns
    the event, locked. Raises :class:`EventClosed`. Flushes."""
    event = _lock_event(rsvp.event_id)
    if not event.takes_rsvps(now):
        raise EventClosed("event takes no RSVPs")
    if not _waitlist(event.id) and _fits(event, rsvp.headcount):
        rsvp.status = RsvpStatus.CONFIRMED
        rsvp.confirmed_at = now
    else:
        rsvp.status = RsvpStatus.WAITLISTED
        rsvp.waitlisted_at = now
    if by_link:
        # Only the attendee's own link speaks for the person (their language).
        rsvp.supporter.locale = rsvp.locale
    if rsvp.wants_updates:
        record_consent(rsvp.supporter, event.campaign, rsvp.consent_wording,
                       source=f"event:{event.slug}", now=now)
    db.session.flush()
    if rsvp.status == RsvpStatus.CONFIRMED:
        queue_webhooks("attendance", rsvp, now=now)
    return event


def cancel_rsvp(token, *, now=None):
    """Cancel the RSVP behind ``token`` (the attendee's own link); a place it frees goes to
    the waiting list. Idempotent. Raises :class:`RsvpTokenInvalid`. Flushes."""
    now = now or utcnow()
    rsvp = find_rsvp_by_token(token, lock=True)
    if rsvp is None:
        raise RsvpTokenInvalid("unknown RSVP link")
    if rsvp.status == RsvpStatus.CANCELLED:
        return rsvp
    event = _lock_event(rsvp.event_id)
    had_place = rsvp.status == RsvpStatus.CONFIRMED
    rsvp.status = RsvpStatus.CANCELLED
    rsvp.cancelled_at = now
    db.session.flush()
    if had_place:
        promote_from_waitlist(event, now=now)
    return rsvp


def change_guests(token, guests, *, now=None):
    """Change how many guests the attendee brings. More guests need free places (unless
    the RSVP waits or is pending); fewer free places for the waiting list. Raises
    :class:`RsvpTokenInvalid`, :class:`EventClosed` or :class:`NotEnoughPlaces`. Flushes."""
    now = now or utcnow()
    rsvp = find_rsvp_by_token(token, lock=True)
    if rsvp is None or rsvp.status == RsvpStatus.CANCELLED:
        raise RsvpTokenInvalid("unknown RSVP link")
    event = _lock_event(rsvp.event_id)
    if not event.takes_rsvps(now):
        raise EventClosed("event takes no RSVPs")
    if rsvp.status == RsvpStatus.CONFIRMED and guests > rsvp.guests and event.capacity is not None:
        left = event.capacity - confirmed_headcount(event.id)
        if guests - rsvp.guests > left:
            raise NotEnoughPlaces(max(0, left))
    fewer = guests < rsvp.guests
    rsvp.guests = guests
    db.session.flush()
    if fewer and rsvp.status == RsvpStatus.CONFIRMED:
        promote_from_waitlist(event, now=now)
    return rsvp


def promote_from_waitlist(event, *, now=None):
    """Give free places to the waiting list, first come first served, and email each person
    promoted. Stops at the first who does not fit, so nobody is overtaken. The caller
    holds the event's lock (:func:`_lock_event`). Returns the RSVPs promoted. Flushes."""
    now = now or utcnow()
    promoted = []
    if event.status != EventStatus.PUBLISHED or event.is_past(now):
        return promoted
    for rsvp in _waitlist(event.id):
        if not _fits(event, rsvp.headcount):
            break
        rsvp.status = RsvpStatus.CONFIRMED
        rsvp.confirmed_at = now
        db.session.flush()
        queue_rsvp_email("rsvp_promoted", event, rsvp, with_calendar=True, now=now)
        queue_webhooks("attendance", rsvp, now=now)
        promoted.append(rsvp)
    return promoted


def places_freed(event_id, *, now=None):
    """Places of ``event_id`` came free outside an RSVP's own cancellation (its attendee
    was erased, say): give them to the waiting list. Flushes."""
    return promote_from_waitlist(_lock_event(event_id), now=now)


def capacity_changed(event, *, now=None):
    """After an organizer changed the capacity: free places go to the waiting list."""
    return promote_from_waitlist(_lock_event(event.id), now=now)


# --- At the event -------------------------------------------------------------------------------

def set_checked_in(rsvp, checked_in, *, now=None):
    """Mark an attendee as arrived (or not, to undo a mistaken tap). Idempotent. Flushes."""
    now = now or utcnow()
    if checked_in and rsvp.checked_in_at is None:
        rsvp.checked_in_at = now
    elif not checked_in:
        rsvp.checked_in_at = None
    db.session.flush()
    return rsvp


def list_attendees(event, *, search=""):
    """Everyone who answered the event, for its organizers: waiting for a place after
    those who have one, then pending and cancelled; in order of answering."""
    order = {RsvpStatus.CONFIRMED: 0, RsvpStatus.WAITLISTED: 1, RsvpStatus.PENDING: 2,
             RsvpStatus.CANCELLED: 3}
    query = (select(Rsvp).where(Rsvp.event_id == event.id).options(joinedload(Rsvp.supporter))
             .order_by(Rsvp.created_at, Rsvp.id))
    rsvps = db.session.scalars(query).unique().all()
    if search:
        needle = search.strip().lower()
        rsvps = [rsvp for rsvp in rsvps
                 if needle in rsvp.name.lower() or needle in rsvp.supporter.email_key]
    return sorted(rsvps, key=lambda rsvp: order[rsvp.status])


# --- Reminders ----------------------------------------------------------------------------------

_REMINDER_COLUMNS = ("reminded_early_at", "reminded_late_at")


def reminder_hours(config):
    """The reminders' lead times in hours, longest first (at most two): e.g. (24, 2)."""
    hours = sorted({float(value) for value in config["EVENT_REMINDER_HOURS"] if float(value) > 0},
                   reverse=True)
    return tuple(hours[:len(_REMINDER_COLUMNS)])


def send_due_reminders(now=None, limit=5000):
    """Queue each reminder that is due, once per attendee and reminder.

    A reminder is due once its lead time before the start has come, for the
    confirmed attendees of a published event that has not started. Each is
    claimed by an ``UPDATE … WHERE reminded_… IS NULL`` in the transaction that
    queues its email: a second run, concurrent or later, claims nothing, and a
    worker killed before the commit leaves everything to the next run. Someone
    who confirmed after a reminder's time gets the next one only (their
    confirmation email is fresher). Returns how many emails were queued.
    """
    now = now or utcnow()
    hours = reminder_hours(current_app.config)
    if not hours:
        return 0
    candidates = db.session.execute(
        select(Rsvp.id, Rsvp.confirmed_at, Event.starts_at,
               *[getattr(Rsvp, column) for column in _REMINDER_COLUMNS])
        .join(Event, Rsvp.event_id == Event.id)
        .where(Event.status == EventStatus.PUBLISHED, Rsvp.status == RsvpStatus.CONFIRMED,
               Event.starts_at > now, Event.starts_at <= now + timedelta(hours=hours[0]))
        .order_by(Event.starts_at, Rsvp.id).limit(limit)
    ).all()
    to_send = {column: [] for column in _REMINDER_COLUMNS}
    to_skip = {column: [] for column in _REMINDER_COLUMNS}
    for rsvp_id, confirmed_at, starts_at, *sent in candidates:
        passed = [index for index, lead in enumerate(hours) if starts_at - timedelta(hours=lead) <= now]
        if not passed:
            continue
        current = passed[-1]  # the latest reminder whose time has come
        for index in range(current + 1):
            if sent[index] is not None:
                continue
            due_at = starts_at - timedelta(hours=hours[index])
            if index == current and confirmed_at is not None and confirmed_at <= due_at:
                to_send[_REMINDER_COLUMNS[index]].append(rsvp_id)
            else:
                # An earlier reminder missed (the scheduler was down) or one that
                # came before the attendee confirmed: one email, the latest, is enough.
                to_skip[_REMINDER_COLUMNS[index]].append(rsvp_id)
    queued = 0
    for column in _REMINDER_COLUMNS:
        _claim(column, to_skip[column], now)
        for rsvp_id in _claim(column, to_send[column], now):
            rsvp = db.session.scalars(
                select(Rsvp).where(Rsvp.id == rsvp_id)
                .options(joinedload(Rsvp.event).joinedload(Event.campaign), joinedload(Rsvp.supporter))
            ).unique().one()
            queue_rsvp_email("event_reminder", rsvp.event, rsvp, now=now,
                             hours_before=round((rsvp.event.starts_at - now).total_seconds() / 3600))
            queued += 1
    return queued


def _claim(column, rsvp_ids, now):
    """Set ``column`` on those of ``rsvp_ids`` where it is still empty; return their ids."""
    if not rsvp_ids:
        return []
    attribute = getattr(Rsvp, column)
    return db.session.scalars(
        update(Rsvp).where(Rsvp.id.in_(rsvp_ids), attribute.is_(None))
        .values({column: now}).returning(Rsvp.id)
        .execution_options(synchronize_session=False)
    ).all()


def purge_stale_rsvps(now=None):
    """Remove RSVPs never confirmed whose link has expired: personal data kept for nothing."""
    from sqlalchemy import delete

    now = now or utcnow()
    cutoff = now - timedelta(hours=current_app.config["CONFIRM_TOKEN_HOURS"])
    result = db.session.execute(delete(Rsvp).where(Rsvp.status == RsvpStatus.PENDING,
                                                   Rsvp.token_issued_at < cutoff))
    return result.rowcount
