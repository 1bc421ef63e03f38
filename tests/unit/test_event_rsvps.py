"""The RSVP rules: double opt-in, one RSVP per person, places and the waiting list,
cancelling, guests, reminders once each, and what the emails carry."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from campaign.events import rsvps
from campaign.events.models import EventStatus, Rsvp, RsvpStatus
from campaign.events.services import attendance, cancel_event, update_event
from campaign.extensions import db
from campaign.mail.models import OutboundEmail
from campaign.mailing.models import Subscription
from tests.factories_events import make_event, make_rsvp


def details(email="ada@example.org", **overrides):
    values = {"name": "Ada Lovelace", "email": email, "guests": 0, "locale": "en"}
    values.update(overrides)
    return rsvps.RsvpDetails(**values)


def emails(kind=None):
    query = select(OutboundEmail).order_by(OutboundEmail.id)
    if kind:
        query = query.where(OutboundEmail.kind == kind)
    return db.session.scalars(query).all()


def rsvp_of(email):
    return db.session.scalars(
        select(Rsvp).where(Rsvp.supporter.has(email_key=email.lower()))).one()


def answer_and_confirm(event, email, **overrides):
    rsvps.rsvp_to_event(event, details(email, **overrides))
    rsvp = rsvp_of(email)
    return rsvps.confirm_rsvp(rsvps.link_token(rsvp))


def test_an_rsvp_waits_for_its_email_link_and_the_email_carries_the_event(ctx):
    event = make_event()
    assert rsvps.rsvp_to_event(event, details()) == rsvps.RsvpOutcome.CREATED
    rsvp = rsvp_of("ada@example.org")
    assert rsvp.status == RsvpStatus.PENDING
    [email] = emails("rsvp_confirmation")
    assert email.context["rsvp_url"].endswith(rsvps.link_token(rsvp))
    [attachment] = email.attachments
    assert attachment["content_type"] == "text/calendar"
    calendar = icalendar.Calendar.from_ical(attachment["content"])
    [component] = calendar.walk("VEVENT")
    assert component.decoded("dtstart").astimezone(UTC) == event.starts_at

    confirmed = rsvps.confirm_rsvp(rsvps.link_token(rsvp))
    assert confirmed.status == RsvpStatus.CONFIRMED
    assert attendance(event).confirmed_people == 1


def test_answering_twice_updates_the_first_rsvp(make_app):
    app = make_app(RESEND_INTERVAL_SECONDS=0)
    with app.test_request_context():
        _answer_twice()


def test_a_quick_correction_updates_the_rsvp_without_a_second_email(make_app):
    app = make_app(RESEND_INTERVAL_SECONDS=60)
    with app.test_request_context():
        event = make_event()
        rsvps.rsvp_to_event(event, details(guests=0))
        link = rsvps.link_token(rsvp_of("ada@example.org"))
        assert rsvps.rsvp_to_event(event, details(guests=3)) == rsvps.RsvpOutcome.THROTTLED
        rsvp = rsvps.confirm_rsvp(link)
        assert (rsvp.guests, rsvp.status) == (3, RsvpStatus.CONFIRMED)
        assert len(emails("rsvp_confirmation")) == 1


def _answer_twice():
    event = make_event()
    rsvps.rsvp_to_event(event, details(guests=0))
    first_link = rsvps.link_token(rsvp_of("ada@example.org"))
    assert rsvps.rsvp_to_event(event, details("ADA@example.org", name="Ada L.", guests=2)) \
        == rsvps.RsvpOutcome.REMINDED
    [rsvp] = db.session.scalars(select(Rsvp)).all()
    assert (rsvp.name, rsvp.guests) == ("Ada L.", 2)
    # Only the newest link works.
    assert rsvps.find_rsvp_by_token(first_link) is None
    assert rsvps.find_rsvp_by_token(rsvps.link_token(rsvp)) == rsvp


def test_answering_again_with_a_place_changes_nothing_and_says_so_by_email(make_app):
    with make_app(RESEND_INTERVAL_SECONDS=0).test_request_context():
        _answer_again_with_a_place()


def _answer_again_with_a_place():
    event = make_event()
    answer_and_confirm(event, "ada@example.org", guests=1)
    assert rsvps.rsvp_to_event(event, details(name="Stranger", guests=5)) \
        == rsvps.RsvpOutcome.ALREADY_REGISTERED
    rsvp = rsvp_of("ada@example.org")
    assert (rsvp.name, rsvp.guests, rsvp.status) == ("Ada Lovelace", 1, RsvpStatus.CONFIRMED)
    assert len(emails("rsvp_already")) == 1


def test_a_double_click_sends_one_email(make_app):
    app = make_app(RESEND_INTERVAL_SECONDS=60)
    with app.test_request_context():
        event = make_event()
        rsvps.rsvp_to_event(event, details())
        assert rsvps.rsvp_to_event(event, details()) == rsvps.RsvpOutcome.THROTTLED
        assert len(emails()) == 1


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
def test_an_event_not_open_takes_no_rsvp(ctx, status):
    event = make_event(status=status)
    with pytest.raises(rsvps.EventClosed):
        rsvps.rsvp_to_event(event, details())


def test_a_past_event_takes_no_rsvp(ctx):
    event = make_event(starts_at=datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(rsvps.EventClosed):
        rsvps.rsvp_to_event(event, details())


def test_an_expired_confirmation_link_asks_for_a_new_rsvp(ctx):
    event = make_event()
    rsvps.rsvp_to_event(event, details())
    rsvp = rsvp_of("ada@example.org")
    later = rsvp.token_issued_at + timedelta(hours=73)
    with pytest.raises(rsvps.RsvpTokenExpired):
        rsvps.confirm_rsvp(rsvps.link_token(rsvp), now=later)


@pytest.mark.parametrize("token", ["", "nope", "x" * 500, None])
def test_a_forged_link_finds_nothing(ctx, token):
    with pytest.raises(rsvps.RsvpTokenInvalid):
        rsvps.confirm_rsvp(token)
    with pytest.raises(rsvps.RsvpTokenInvalid):
        rsvps.cancel_rsvp(token)


def test_confirming_twice_counts_once(ctx):
    event = make_event()
    rsvps.rsvp_to_event(event, details())
    token = rsvps.link_token(rsvp_of("ada@example.org"))
    rsvps.confirm_rsvp(token)
    rsvps.confirm_rsvp(token)
    assert attendance(event).confirmed_people == 1
    assert len(emails("rsvp_confirmed")) == 1


def test_a_full_event_puts_new_rsvps_on_the_waiting_list_and_a_cancellation_promotes_the_first(ctx):
    event = make_event(capacity=3)
    first = answer_and_confirm(event, "one@example.org", guests=1)
    second = answer_and_confirm(event, "two@example.org")
    waiting = answer_and_confirm(event, "three@example.org")
    later = answer_and_confirm(event, "four@example.org")
    assert [first.status, second.status] == [RsvpStatus.CONFIRMED] * 2
    assert [waiting.status, later.status] == [RsvpStatus.WAITLISTED] * 2
    assert emails("rsvp_waitlisted")[0].to_address == "three@example.org"

    rsvps.cancel_rsvp(rsvps.link_token(second))
    assert waiting.status == RsvpStatus.CONFIRMED and later.status == RsvpStatus.WAITLISTED
    [promoted] = emails("rsvp_promoted")
    assert promoted.to_address == "three@example.org" and promoted.attachments
    assert attendance(event).confirmed_people == 3


def test_promotion_never_overtakes_the_first_in_line(ctx):
    event = make_event(capacity=2)
    holder = answer_and_confirm(event, "holder@example.org")
    big = answer_and_confirm(event, "big@example.org", guests=2)  # needs 3 places
    small = answer_and_confirm(event, "small@example.org")
    assert big.status == small.status == RsvpStatus.WAITLISTED
    rsvps.cancel_rsvp(rsvps.link_token(holder))
    # Two places free, the first in line needs three: nobody jumps the queue.
    assert big.status == small.status == RsvpStatus.WAITLISTED


def test_raising_the_capacity_promotes_the_waiting_list(ctx):
    event = make_event(capacity=1)
    answer_and_confirm(event, "one@example.org")
    waiting = answer_and_confirm(event, "two@example.org")
    event.capacity = 2
    rsvps.capacity_changed(event)
    assert waiting.status == RsvpStatus.CONFIRMED


def test_more_guests_need_free_places_and_fewer_free_them(ctx):
    event = make_event(capacity=3)
    rsvp = answer_and_confirm(event, "ada@example.org", guests=1)
    waiting = answer_and_confirm(event, "later@example.org", guests=1)
    assert waiting.status == RsvpStatus.WAITLISTED
    with pytest.raises(rsvps.NotEnoughPlaces) as raised:
        rsvps.change_guests(rsvps.link_token(rsvp), 3)
    assert raised.value.places_left == 1
    rsvps.change_guests(rsvps.link_token(rsvp), 2)
    assert attendance(event).confirmed_people == 3
    rsvps.change_guests(rsvps.link_token(rsvp), 0)
    assert waiting.status == RsvpStatus.CONFIRMED


def test_cancelling_twice_is_harmless_and_answering_again_reopens_the_rsvp(make_app):
    with make_app(RESEND_INTERVAL_SECONDS=0).test_request_context():
        _cancel_twice_and_answer_again()


def _cancel_twice_and_answer_again():
    event = make_event()
    rsvp = answer_and_confirm(event, "ada@example.org")
    token = rsvps.link_token(rsvp)
    rsvps.cancel_rsvp(token)
    rsvps.cancel_rsvp(token)
    assert rsvp.status == RsvpStatus.CANCELLED
    assert rsvps.rsvp_to_event(event, details()) == rsvps.RsvpOutcome.REMINDED
    assert rsvp.status == RsvpStatus.PENDING


def test_consent_is_recorded_only_once_the_address_is_confirmed(ctx):
    event = make_event()
    rsvps.rsvp_to_event(event, details(wants_updates=True, consent_wording="Keep me informed"))
    assert db.session.scalars(select(Subscription)).all() == []
    rsvps.confirm_rsvp(rsvps.link_token(rsvp_of("ada@example.org")))
    [subscription] = db.session.scalars(select(Subscription)).all()
    assert subscription.consent_wording == "Keep me informed"
    assert subscription.consent_source == f"event:{event.slug}"


def test_the_online_link_goes_only_to_attendees_with_a_place(ctx):
    event = make_event(venue_name="", address="", city="", online_url="https://meet.example.org/x",
                       capacity=1)
    answer_and_confirm(event, "in@example.org")
    answer_and_confirm(event, "waiting@example.org")
    for email in emails():
        has_link = "meet.example.org" in str(email.context) or any(
            "meet.example.org" in attachment["content"] for attachment in email.attachments)
        assert has_link == (email.kind == "rsvp_confirmed"), email.kind


def test_changing_the_time_tells_attendees_and_raises_the_sequence(ctx):
    event = make_event(capacity=1)
    answer_and_confirm(event, "in@example.org")
    answer_and_confirm(event, "waiting@example.org")
    rsvps.rsvp_to_event(event, details("pending@example.org"))
    sequence = event.sequence
    from campaign.events.services import EventDetails

    moved = EventDetails(
        title=event.title, kind=event.kind, timezone=event.timezone,
        starts_at=event.starts_at + timedelta(hours=1), ends_at=event.ends_at + timedelta(hours=1),
        venue_name=event.venue_name, address=event.address, city=event.city,
        capacity=event.capacity, status=EventStatus.PUBLISHED, slug=event.slug)
    assert update_event(event, moved) == ("starts_at", "ends_at")
    assert event.sequence == sequence + 1
    assert sorted(email.to_address for email in emails("event_changed")) == [
        "in@example.org", "waiting@example.org"]
    # Saving again without a change tells nobody.
    assert update_event(event, moved) == ()
    assert len(emails("event_changed")) == 2


def test_cancelling_the_event_tells_attendees_once(ctx):
    event = make_event()
    answer_and_confirm(event, "in@example.org")
    cancel_event(event)
    cancel_event(event)
    assert [email.to_address for email in emails("event_cancelled")] == ["in@example.org"]
    assert event.status == EventStatus.CANCELLED


# --- Reminders --------------------------------------------------------------------------------

def test_each_reminder_is_sent_once_however_often_the_job_runs(ctx):
    event = make_event()
    early = event.starts_at - timedelta(days=3)
    attendees = [make_rsvp(event, confirmed_at=early) for _ in range(3)]
    make_rsvp(event, status=RsvpStatus.WAITLISTED)
    make_rsvp(event, status=RsvpStatus.PENDING)

    assert rsvps.send_due_reminders(now=event.starts_at - timedelta(hours=25)) == 0
    day_before = event.starts_at - timedelta(hours=23)
    assert rsvps.send_due_reminders(now=day_before) == 3
    assert rsvps.send_due_reminders(now=day_before) == 0
    assert rsvps.send_due_reminders(now=day_before + timedelta(minutes=5)) == 0
    hour_before = event.starts_at - timedelta(hours=1)
    assert rsvps.send_due_reminders(now=hour_before) == 3
    assert rsvps.send_due_reminders(now=hour_before) == 0
    reminders = emails("event_reminder")
    assert sorted(email.to_address for email in reminders) == sorted(
        rsvp.supporter.email for rsvp in attendees for _ in range(2))
    assert {email.context["hours_before"] for email in reminders} == {23, 1}


def test_a_missed_reminder_is_not_sent_late_next_to_the_next_one(ctx):
    event = make_event()
    make_rsvp(event, confirmed_at=event.starts_at - timedelta(days=3))
    # The scheduler was down all day: only the latest due reminder goes out.
    assert rsvps.send_due_reminders(now=event.starts_at - timedelta(minutes=90)) == 1
    assert rsvps.send_due_reminders(now=event.starts_at - timedelta(minutes=80)) == 0


def test_someone_who_confirmed_after_the_day_before_gets_only_the_last_reminder(ctx):
    event = make_event()
    make_rsvp(event, confirmed_at=event.starts_at - timedelta(hours=10))
    assert rsvps.send_due_reminders(now=event.starts_at - timedelta(hours=9)) == 0
    assert rsvps.send_due_reminders(now=event.starts_at - timedelta(hours=1)) == 1


def test_the_second_reminder_can_be_turned_off(make_app):
    app = make_app(EVENT_REMINDER_HOURS=(24,))
    with app.test_request_context():
        event = make_event()
        make_rsvp(event, confirmed_at=event.starts_at - timedelta(days=3))
        assert rsvps.send_due_reminders(now=event.starts_at - timedelta(hours=20)) == 1
        assert rsvps.send_due_reminders(now=event.starts_at - timedelta(hours=1)) == 0


def test_no_reminders_for_a_cancelled_or_started_event(ctx):
    cancelled = make_event(status=EventStatus.CANCELLED)
    started = make_event(starts_at=datetime.now(UTC) - timedelta(minutes=5))
    for event in (cancelled, started):
        make_rsvp(event, confirmed_at=event.starts_at - timedelta(days=3))
    assert rsvps.send_due_reminders(now=cancelled.starts_at - timedelta(hours=1)) == 0
    assert rsvps.send_due_reminders() == 0


def test_reminder_emails_render_in_the_attendees_language(ctx, outbox):
    from campaign.jobs import run_job

    event = make_event()
    make_rsvp(event, confirmed_at=event.starts_at - timedelta(days=3), locale="fr_CA")
    rsvps.send_due_reminders(now=event.starts_at - timedelta(hours=2))
    db.session.commit()
    [email] = emails("event_reminder")
    run_job("placard.mail.send", email.id)
    [message] = outbox.messages()
    assert "America/Toronto" in outbox.text(message)


def test_stale_pending_rsvps_are_purged(ctx):
    event = make_event()
    old = make_rsvp(event, status=RsvpStatus.PENDING,
                    token_issued_at=datetime.now(UTC) - timedelta(days=5))
    fresh = make_rsvp(event, status=RsvpStatus.PENDING)
    confirmed = make_rsvp(event, token_issued_at=datetime.now(UTC) - timedelta(days=5))
    assert rsvps.purge_stale_rsvps() == 1
    remaining = set(db.session.scalars(select(Rsvp.id)))
    assert remaining == {fresh.id, confirmed.id} and old.id not in remaining
