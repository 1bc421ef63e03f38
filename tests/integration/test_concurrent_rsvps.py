"""Many attendees confirming at once against a real server and PostgreSQL: never more
people with a place than the event holds; the rest wait, in order, and a cancellation
hands its place on."""

import re
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from campaign.events import rsvps
from campaign.events.models import Rsvp, RsvpStatus
from campaign.extensions import db
from tests.factories_events import make_event, make_rsvp

CAPACITY = 12
ATTENDEES = 40
THREADS = 16


def _post_button(base, link, action):
    """Open the attendee's RSVP page and press one of its buttons, as a browser would."""
    session = requests.Session()
    page = session.get(link, timeout=30)
    page.raise_for_status()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, page.text
    return session.post(f"{link}/{action}", data={"csrf_token": token.group(1)},
                        allow_redirects=False, timeout=30).status_code


def _rsvp_over_http(base, slug, email):
    session = requests.Session()
    page = session.get(f"{base}/events/{slug}", timeout=30)
    page.raise_for_status()
    token = re.search(r'name="rsvp-csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert token, page.text
    fields = {"name": "Ada Lovelace", "email": email, "guests": "1", "csrf_token": token.group(1)}
    return session.post(f"{base}/events/{slug}/rsvp",
                        data={f"rsvp-{name}": value for name, value in fields.items()},
                        allow_redirects=False, timeout=30).status_code


def test_concurrent_rsvps_and_double_clicks_leave_one_rsvp_per_person(stack, stack_app):
    with stack_app.test_request_context():
        event = make_event(capacity=5)
        slug, event_id = event.slug, event.id
        db.session.commit()
    # Each address twice, at the same moment: a double click.
    addresses = [f"rush-{event_id}-{number}@example.org" for number in range(THREADS)] * 2
    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(lambda email: _rsvp_over_http(stack.base, slug, email), addresses))
    assert statuses == [303] * len(addresses)
    with stack_app.app_context():
        rows = db.session.execute(select(Rsvp.supporter_id, func.count())
                                  .where(Rsvp.event_id == event_id)
                                  .group_by(Rsvp.supporter_id)).all()
    assert len(rows) == THREADS and {count for _id, count in rows} == {1}


def test_concurrent_confirmations_never_exceed_the_capacity(stack, stack_app):
    with stack_app.test_request_context():
        event = make_event(capacity=CAPACITY)
        # Pending RSVPs of one or two people each, as the RSVP form leaves them.
        pending = [make_rsvp(event, f"crowd-rsvp-{event.id}-{number}@example.org",
                             status=RsvpStatus.PENDING, guests=number % 2)
                   for number in range(ATTENDEES)]
        links = [rsvps.rsvp_url(rsvp) for rsvp in pending]
        event_id = event.id
        db.session.commit()

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(lambda link: _post_button(stack.base, link, "confirm"), links))
    assert statuses == [303] * ATTENDEES

    def headcounts():
        with stack_app.app_context():
            rows = db.session.execute(
                select(Rsvp.status, func.count(), func.sum(1 + Rsvp.guests))
                .where(Rsvp.event_id == event_id).group_by(Rsvp.status)).all()
            return {status: (count, people) for status, count, people in rows}

    counts = headcounts()
    assert set(counts) <= {RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED}
    assert counts[RsvpStatus.CONFIRMED][1] <= CAPACITY
    # Nobody left waiting while a place they fit into is free (everyone needs one or two).
    assert counts[RsvpStatus.CONFIRMED][1] >= CAPACITY - 1
    assert sum(count for count, _people in counts.values()) == ATTENDEES

    # Everyone with a place cancels at once: the waiting list moves up, still within capacity.
    with stack_app.app_context():
        holders = db.session.scalars(select(Rsvp).where(
            Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.CONFIRMED)).all()
        cancel_links = [rsvps.rsvp_url(rsvp) for rsvp in holders]
    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(lambda link: _post_button(stack.base, link, "cancel"), cancel_links))
    assert statuses == [303] * len(cancel_links)
    counts = headcounts()
    assert CAPACITY - 1 <= counts[RsvpStatus.CONFIRMED][1] <= CAPACITY
    assert counts[RsvpStatus.CANCELLED][0] == len(cancel_links)
