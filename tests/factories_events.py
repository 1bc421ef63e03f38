"""Factories for events and RSVPs."""

import itertools
from datetime import timedelta

from campaign.db import utcnow
from campaign.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus
from campaign.events.rsvps import new_link_secret
from campaign.extensions import db
from campaign.signatures.services import find_or_create_supporter_id
from tests.factories import make_campaign

_sequence = itertools.count(1)


def make_event(campaign=None, **overrides):
    """A published picket in Toronto a week from now, two hours long."""
    number = next(_sequence)
    starts_at = overrides.pop("starts_at", utcnow().replace(microsecond=0) + timedelta(days=7))
    values = {"slug": f"event-{number}", "title": f"Event {number}", "kind": EventKind.PICKET,
              "description": "Bring a *placard*.", "timezone": "America/Toronto",
              "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=2),
              "venue_name": "City Hall", "address": "100 Queen Street West\nToronto",
              "city": "Toronto", "status": EventStatus.PUBLISHED, "sequence": 0}
    values.update(overrides)
    event = Event(campaign=campaign or make_campaign(), **values)
    db.session.add(event)
    db.session.flush()
    return event


def make_rsvp(event, email=None, *, status=RsvpStatus.CONFIRMED, guests=0, name="Ada Lovelace",
              **overrides):
    """An RSVP straight into the database (no email), confirmed unless told."""
    number = next(_sequence)
    email = email or f"attendee{number}@example.org"
    now = utcnow()
    nonce, token_hash = new_link_secret()
    values = {"event_id": event.id, "supporter_id": find_or_create_supporter_id(email, "en"),
              "status": status, "name": name, "guests": guests, "token_nonce": nonce,
              "token_hash": token_hash, "token_issued_at": now, "locale": "en",
              "confirmed_at": now if status == RsvpStatus.CONFIRMED else None,
              "waitlisted_at": now if status == RsvpStatus.WAITLISTED else None}
    values.update(overrides)
    rsvp = Rsvp(**values)
    db.session.add(rsvp)
    db.session.flush()
    return rsvp
