"""An organizer writes a campaign's events, follows who is coming, downloads the list,
checks people in at the door, and cancels an event."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaign.accounts.models import AuditEntry
from campaign.campaigns.models import Campaign
from campaign.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus
from campaign.events.services import event_source
from campaign.exports.csv import safe_cell, stream_csv
from campaign.extensions import db
from campaign.mail.models import OutboundEmail
from campaign.signatures.models import Signature, SignatureStatus
from campaign.signatures.services import sign_petition
from tests.factories import make_campaign, make_petition, signer
from tests.factories_accounts import login, make_user
from tests.factories_events import make_event, make_rsvp


@pytest.fixture
def world(app):
    with app.app_context():
        user = make_user(email="ana@example.org")
        campaign = make_campaign(slug="housing")
        campaign.organizers.append(user)
        db.session.commit()
        return {"user": user.id, "campaign": campaign.id}


@pytest.fixture
def client(app, world):
    client = app.test_client()
    login(client, world["user"])
    return client


def event_form(**overrides):
    data = {"title": "Picket at City Hall", "slug": "", "kind": "picket",
            "description": "Bring a *placard*.", "timezone": "America/Toronto",
            "start_date": "2031-07-15", "start_time": "18:00", "end_date": "", "end_time": "20:00",
            "venue_name": "City Hall", "address": "100 Queen Street West", "city": "Toronto",
            "online_url": "", "capacity": "", "accessibility": "Step-free access.",
            "contact": "Ana, 555-0100", "status": "published"}
    data.update(overrides)
    return data


def create(client, world, **overrides):
    return client.post(f"/organize/campaigns/{world['campaign']}/events/new",
                       data=event_form(**overrides))


def the_event(app, slug="picket-at-city-hall"):
    with app.app_context():
        event = db.session.scalars(select(Event).where(Event.slug == slug)).one()
        db.session.expunge(event)
        return event


def an_event(app, world, **overrides):
    """An event of the organizer's campaign, with its id."""
    with app.app_context():
        campaign = db.session.get(Campaign, world["campaign"])
        event = make_event(campaign, **overrides)
        db.session.commit()
        return event.id


def rsvp_to(app, event_id, email, **overrides):
    with app.app_context():
        rsvp = make_rsvp(db.session.get(Event, event_id), email, **overrides)
        db.session.commit()
        return rsvp.id


def emails(app, kind):
    with app.app_context():
        return sorted(db.session.scalars(
            select(OutboundEmail.to_address).where(OutboundEmail.kind == kind)).all())


def audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


# --- Writing an event ---------------------------------------------------------------------------

@pytest.mark.parametrize(("day", "expected"), [
    ("2031-07-15", datetime(2031, 7, 15, 22, 0, tzinfo=UTC)),   # EDT, UTC−4
    ("2031-01-15", datetime(2031, 1, 15, 23, 0, tzinfo=UTC)),   # EST, UTC−5
])
def test_an_event_is_stored_in_utc_from_its_local_time(app, client, world, day, expected):
    response = create(client, world, start_date=day)
    event = the_event(app)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/organize/events/{event.id}")
    assert event.starts_at == expected
    assert event.ends_at == expected + timedelta(hours=2)  # no end date: the same day
    assert (event.timezone, event.kind, event.status) == ("America/Toronto", EventKind.PICKET,
                                                           EventStatus.PUBLISHED)
    assert (event.venue_name, event.city, event.contact) == ("City Hall", "Toronto", "Ana, 555-0100")
    assert event.capacity is None


def test_an_event_past_midnight_takes_its_end_date(app, client, world):
    create(client, world, kind="vigil", start_time="22:00", end_date="2031-07-16", end_time="06:00",
           capacity="40")
    event = the_event(app)
    assert event.ends_at == datetime(2031, 7, 16, 10, 0, tzinfo=UTC)
    assert (event.kind, event.capacity) == (EventKind.VIGIL, 40)


def test_a_start_in_the_hour_the_clocks_skip_is_refused(app, client, world):
    response = create(client, world, start_date="2031-03-09", start_time="02:30", end_time="04:00")
    assert response.status_code == 422
    assert "does not exist in that time zone" in response.text
    with app.app_context():
        assert db.session.scalar(select(Event.id)) is None


def test_a_time_the_clocks_repeat_is_its_first_occurrence(app, client, world):
    # On 2 November 2031 Toronto's clocks go from 02:00 EDT back to 01:00 EST.
    create(client, world, start_date="2031-11-02", start_time="01:30", end_time="03:00")
    event = the_event(app)
    assert event.starts_at == datetime(2031, 11, 2, 5, 30, tzinfo=UTC)   # 01:30 EDT
    assert event.ends_at == datetime(2031, 11, 2, 8, 0, tzinfo=UTC)      # 03:00 EST


def test_an_online_event_needs_only_its_link(app, client, world):
    response = create(client, world, kind="online", venue_name="", address="", city="",
                      online_url="https://meet.example.org/housing")
    assert response.status_code == 303
    assert the_event(app).online_url == "https://meet.example.org/housing"


@pytest.mark.parametrize(("fields", "message"), [
    ({"title": ""}, "Please give the event a title."),
    ({"title": "x" * 201}, "Please keep this under 200 characters."),
    ({"title": "Picket\x07"}, "invisible control characters"),
    ({"address": "100 Queen\u202e Street"}, "invisible control characters"),
    ({"contact": "x" * 301}, "Please keep this under 300 characters."),
    ({"city": "x" * 101}, "Please keep this under 100 characters."),
    ({"venue_name": "x" * 201}, "Please keep this under 200 characters."),
    ({"start_date": ""}, "Please choose the day of the event."),
    ({"start_date": "15/07/2031"}, "Please enter a date as YYYY-MM-DD."),
    ({"start_date": "0001-01-01"}, "Please choose a date between 2000 and 2100."),
    ({"end_time": ""}, "Please give the time the event ends."),
    ({"start_time": "6pm"}, "Please enter a time as HH:MM"),
    ({"end_time": "17:00"}, "The event must end after it starts."),
    ({"end_time": "18:00"}, "The event must end after it starts."),
    ({"end_date": "2031-07-14", "end_time": "21:00"}, "The event must end after it starts."),
    ({"capacity": "0"}, "Please enter a number of people between 1 and 1000000"),
    ({"capacity": "-5"}, "Please enter a number of people between 1 and 1000000"),
    ({"capacity": "lots"}, "Please enter a whole number"),
    ({"capacity": "12.5"}, "Please enter a whole number"),
    ({"online_url": "javascript:alert(1)"}, "Please enter a web address starting with https://"),
    ({"online_url": "ftp://files.example.org"}, "Please enter a web address starting with https://"),
    ({"online_url": "https://"}, "Please enter a web address starting with https://"),
    ({"online_url": "https://example.org/" + "x" * 500}, "Please keep this under 500 characters."),
    ({"venue_name": "", "address": "", "city": "Toronto"},
     "An in-person event needs a venue or an address; an online event needs a link."),
    ({"kind": "online", "venue_name": "", "address": ""}, "An online event needs a link."),
    ({"kind": "party"}, "Not a valid choice"),
    ({"timezone": "Mars/Olympus_Mons"}, "Not a valid choice"),
    ({"status": "cancelled"}, "Not a valid choice"),
])
def test_an_event_form_with_a_mistake_is_shown_again_with_it(app, client, world, fields, message):
    response = create(client, world, **fields)
    assert response.status_code == 422
    assert message in response.text
    assert 'class="error"' in response.text
    with app.app_context():
        assert db.session.scalar(select(Event.id)) is None


def test_the_only_error_for_a_capacity_that_is_no_number_is_that_one(app, client, world):
    response = create(client, world, capacity="lots")
    assert "Please enter a number of people between" not in response.text


def test_preview_shows_the_description_rendered_and_saves_nothing(app, client, world):
    response = create(client, world, description="Bring **water**.<script>alert(1)</script>",
                      preview="1")
    assert response.status_code == 200
    assert "Bring <strong>water</strong>." in response.text
    assert "<script>alert(1)</script>" not in response.text
    with app.app_context():
        assert db.session.scalar(select(Event.id)) is None


def test_a_new_event_starts_in_the_zone_of_the_campaigns_last_event(app, client, world):
    an_event(app, world, timezone="Europe/Paris")
    page = client.get(f"/organize/campaigns/{world['campaign']}/events/new").text
    assert '<option selected value="Europe/Paris">' in page
    assert "data-guess-timezone" not in page


def test_the_edit_page_shows_the_times_in_the_events_own_zone(app, client, world):
    create(client, world, timezone="Asia/Seoul", start_date="2031-01-15", start_time="09:30",
           end_date="2031-01-16", end_time="01:00")
    event = the_event(app)
    assert event.starts_at == datetime(2031, 1, 15, 0, 30, tzinfo=UTC)
    page = client.get(f"/organize/events/{event.id}/edit").text
    assert '<option selected value="Asia/Seoul">' in page
    for value in ("2031-01-15", "09:30", "2031-01-16", "01:00"):
        assert f'value="{value}"' in page


def test_editing_the_time_emails_those_coming_and_says_so(app, client, world):
    event_id = an_event(app, world)
    rsvp_to(app, event_id, "coming@example.org")
    rsvp_to(app, event_id, "waiting@example.org", status=RsvpStatus.WAITLISTED)
    rsvp_to(app, event_id, "pending@example.org", status=RsvpStatus.PENDING)
    rsvp_to(app, event_id, "gone@example.org", status=RsvpStatus.CANCELLED)
    response = client.post(f"/organize/events/{event_id}/edit", data=event_form(start_time="19:00",
                                                                                end_time="21:00"))
    assert response.status_code == 303
    assert emails(app, "event_changed") == ["coming@example.org", "waiting@example.org"]
    page = client.get(response.headers["Location"]).text
    assert "everyone with a place or on the waiting list is being emailed about it: 2 messages" in page
    assert the_event(app, "picket-at-city-hall").starts_at == datetime(2031, 7, 15, 23, 0, tzinfo=UTC)


def test_editing_only_the_text_emails_nobody_and_says_so(app, client, world):
    create(client, world)
    event = the_event(app)
    rsvp_to(app, event.id, "coming@example.org")
    response = client.post(f"/organize/events/{event.id}/edit",
                           data=event_form(description="New *text*.", title="Picket at City Hall"))
    assert response.status_code == 303
    assert emails(app, "event_changed") == []
    assert "attendees were not emailed" in client.get(response.headers["Location"]).text
    assert the_event(app).description == "New *text*."


def test_raising_the_capacity_gives_the_waiting_list_its_places(app, client, world):
    create(client, world, capacity="1")
    event = the_event(app)
    rsvp_to(app, event.id, "first@example.org")
    waiting = rsvp_to(app, event.id, "second@example.org", status=RsvpStatus.WAITLISTED)
    response = client.post(f"/organize/events/{event.id}/edit", data=event_form(capacity="2"))
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Rsvp, waiting).status == RsvpStatus.CONFIRMED
    assert emails(app, "rsvp_promoted") == ["second@example.org"]
    assert "1 person on the waiting list got a place" in client.get(response.headers["Location"]).text


def test_a_cancelled_event_is_not_edited(app, client, world):
    event_id = an_event(app, world, status=EventStatus.CANCELLED)
    response = client.post(f"/organize/events/{event_id}/edit", data=event_form())
    assert response.status_code == 303
    assert "can no longer be changed" in client.get(response.headers["Location"]).text
    assert client.get(f"/organize/events/{event_id}/edit").status_code == 303
    with app.app_context():
        assert db.session.get(Event, event_id).title != "Picket at City Hall"


# --- The event's page and the campaign's ---------------------------------------------------------

def test_the_event_page_shows_attendance_and_the_picket_signs_signatures(app, client, world):
    event_id = an_event(app, world, capacity=10)
    rsvp_to(app, event_id, "a@example.org", guests=2)
    rsvp_to(app, event_id, "b@example.org", status=RsvpStatus.WAITLISTED)
    rsvp_to(app, event_id, "c@example.org", status=RsvpStatus.PENDING)
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        petition = make_petition(event.campaign)
        db.session.commit()
        for email in ("one@example.org", "two@example.org", "three@example.org"):
            sign_petition(petition, signer(email=email, source=event_source(event)))
        sign_petition(petition, signer(email="other@example.org", source="newsletter"))
        db.session.commit()
        first = db.session.scalars(select(Signature).order_by(Signature.id)).first()
        first.status = SignatureStatus.CONFIRMED
        db.session.commit()
        slug = event.slug
    page = client.get(f"/organize/events/{event_id}").text
    assert "3 of 10" in page and "7 places left." in page
    assert "Signatures through the picket sign's QR code: 1 confirmed, 2 pending" in page
    assert f'href="/events/{slug}/picket-sign"' in page
    assert f'href="/events/{slug}"' in page
    assert f"/organize/events/{event_id}/attendees.csv" in page
    assert "Writing to attendees" not in page


def test_the_campaign_page_lists_its_events(app, client, world):
    event_id = an_event(app, world, title="Vigil for tenants", status=EventStatus.DRAFT)
    rsvp_to(app, event_id, "a@example.org", guests=1)
    page = client.get(f"/organize/campaigns/{world['campaign']}/edit").text
    assert f'href="/organize/events/{event_id}"' in page and "Vigil for tenants" in page
    assert "Draft" in page
    assert f'href="/organize/campaigns/{world["campaign"]}/events/new"' in page


# --- Cancelling ---------------------------------------------------------------------------------

def test_cancelling_needs_the_box_ticked(app, client, world):
    event_id = an_event(app, world)
    rsvp_to(app, event_id, "coming@example.org")
    response = client.post(f"/organize/events/{event_id}/cancel", data={})
    assert response.status_code == 422
    assert "Please tick the box to confirm" in response.text
    with app.app_context():
        assert db.session.get(Event, event_id).status == EventStatus.PUBLISHED
    assert emails(app, "event_cancelled") == []


def test_cancelling_tells_those_coming_once_and_is_audited(app, client, world):
    event_id = an_event(app, world)
    rsvp_to(app, event_id, "coming@example.org")
    rsvp_to(app, event_id, "waiting@example.org", status=RsvpStatus.WAITLISTED)
    rsvp_to(app, event_id, "pending@example.org", status=RsvpStatus.PENDING)
    response = client.post(f"/organize/events/{event_id}/cancel", data={"confirm": "y"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).text
    assert "on the waiting list is being told by email: 2 messages." in page
    assert "Cancel this event" not in page
    again = client.post(f"/organize/events/{event_id}/cancel", data={"confirm": "y"})
    assert again.status_code == 303
    assert emails(app, "event_cancelled") == ["coming@example.org", "waiting@example.org"]
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.status == EventStatus.CANCELLED and event.cancelled_at is not None
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.cancel")).all()
        assert (entry.subject_type, entry.subject_id, entry.campaign_id, entry.actor_id) == (
            "event", event_id, world["campaign"], world["user"])


# --- Attendees ----------------------------------------------------------------------------------

def test_the_attendee_list_escapes_what_attendees_typed(app, client, world):
    event_id = an_event(app, world)
    rsvp_to(app, event_id, "x@example.org", name='<script>alert("x")</script><b>Bold</b>')
    page = client.get(f"/organize/events/{event_id}/attendees").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Bold&lt;/b&gt;" in page
    assert "<script>alert" not in page and "<b>Bold" not in page


def test_the_attendee_list_searches_and_filters(app, client, world):
    event_id = an_event(app, world)
    rsvp_to(app, event_id, "ada@example.org", name="Ada Lovelace")
    rsvp_to(app, event_id, "grace@example.org", name="Grace Hopper", status=RsvpStatus.WAITLISTED)
    rsvp_to(app, event_id, "alan@example.org", name="Alan Turing", status=RsvpStatus.PENDING)
    everyone = client.get(f"/organize/events/{event_id}/attendees").text
    assert "3 answers in all." in everyone
    assert everyone.index("Ada Lovelace") < everyone.index("Grace Hopper") < everyone.index("Alan Turing")
    assert "On the waiting list" in everyone and "Email not confirmed yet" in everyone
    by_email = client.get(f"/organize/events/{event_id}/attendees?q=GRACE@").text
    assert "Grace Hopper" in by_email and "Ada Lovelace" not in by_email
    pending = client.get(f"/organize/events/{event_id}/attendees?status=pending").text
    assert "Alan Turing" in pending and "Ada Lovelace" not in pending
    assert "1 answer matches your search." in pending


def csv_rows(response):
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_neutralises_formulas_and_escapes_no_html(app, client, world):
    event_id = an_event(app, world)
    names = ['=HYPERLINK("https://evil.example/?x","click")', "+1", "-1", "@SUM(A1:A9)", "\tTabbed",
             "<b>Bold & Co</b>", "Zoë Ça"]
    for number, name in enumerate(names):
        rsvp_to(app, event_id, f"p{number}@example.org", name=name, guests=number % 2,
                wants_updates=True)
    response = client.get(f"/organize/events/{event_id}/attendees.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    header, *rows = csv_rows(response)
    assert header == ["name", "email", "guests", "status", "rsvp_at", "confirmed_at", "checked_in_at",
                      "wants_updates"]
    by_email = {row[1]: row for row in rows}
    assert [by_email[f"p{n}@example.org"][0] for n in range(len(names))] == [
        '\'=HYPERLINK("https://evil.example/?x","click")', "'+1", "'-1", "'@SUM(A1:A9)", "'\tTabbed",
        "<b>Bold & Co</b>", "Zoë Ça"]
    row = by_email["p1@example.org"]
    assert row[2:4] == ["1", "confirmed"] and row[7] == "true" and row[6] == ""
    assert datetime.fromisoformat(row[4]).tzinfo is not None
    [entry] = audit(app, "event.attendees_export")
    assert (entry.subject_id, entry.campaign_id, entry.reason) == (event_id, world["campaign"],
                                                                   "rows=7")


def test_the_csv_keeps_the_lists_filters(app, client, world):
    event_id = an_event(app, world)
    rsvp_to(app, event_id, "ada@example.org", name="Ada")
    rsvp_to(app, event_id, "grace@example.org", name="Grace", status=RsvpStatus.WAITLISTED)
    _header, *rows = csv_rows(client.get(f"/organize/events/{event_id}/attendees.csv?status=waitlisted"))
    assert [row[0] for row in rows] == ["Grace"]
    assert audit(app, "event.attendees_export")[0].reason == "rows=1 status=waitlisted"


def test_safe_cell_leaves_harmless_values_as_they_are():
    assert [safe_cell(v) for v in (None, 3, -2, True, False, "Ada", " =1", "a=b")] == [
        "", "3", "-2", "true", "false", "Ada", " =1", "a=b"]
    assert [safe_cell(v) for v in ("=1", "+1", "-1", "@x", "\tx", "\rx")] == [
        "'=1", "'+1", "'-1", "'@x", "'\tx", "'\rx"]
    assert safe_cell(datetime(2031, 7, 15, 22, tzinfo=UTC)) == "2031-07-15T22:00:00+00:00"


def test_stream_csv_yields_as_it_goes():
    rows = ([str(number)] for number in range(1200))
    chunks = list(stream_csv(["n"], rows))
    assert len(chunks) > 2 and chunks[0] == "\ufeffn\r\n"
    assert "".join(chunks).count("\r\n") == 1201


# --- Check-in -----------------------------------------------------------------------------------

def test_the_check_in_page_lists_those_coming_and_waiting(app, client, world):
    event_id = an_event(app, world)
    rsvp_to(app, event_id, "ada@example.org", name="Ada Lovelace", guests=2)
    rsvp_to(app, event_id, "grace@example.org", name="Grace Hopper", status=RsvpStatus.WAITLISTED)
    rsvp_to(app, event_id, "alan@example.org", name="Alan Turing", status=RsvpStatus.PENDING)
    rsvp_to(app, event_id, "kurt@example.org", name="Kurt Gödel", status=RsvpStatus.CANCELLED)
    page = client.get(f"/organize/events/{event_id}/check-in").text
    assert "Ada Lovelace" in page and "+ 2 guests" in page
    assert "Grace Hopper" in page and "On the waiting list" in page
    assert "Alan Turing" not in page and "Kurt Gödel" not in page
    assert "0 of 3 people checked in" in page
    found = client.get(f"/organize/events/{event_id}/check-in?q=hopper").text
    assert "Grace Hopper" in found and "Ada Lovelace" not in found


def test_checking_in_toggles_and_is_idempotent(app, client, world):
    event_id = an_event(app, world)
    rsvp_id = rsvp_to(app, event_id, "ada@example.org", name="Ada Lovelace", guests=1)
    url = f"/organize/events/{event_id}/check-in/{rsvp_id}"
    response = client.post(url, data={"checked_in": "1", "q": "ada"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/organize/events/{event_id}/check-in?q=ada#rsvp-{rsvp_id}")
    with app.app_context():
        first = db.session.get(Rsvp, rsvp_id).checked_in_at
    assert first is not None
    client.post(url, data={"checked_in": "1"})
    with app.app_context():
        assert db.session.get(Rsvp, rsvp_id).checked_in_at == first
    page = client.get(f"/organize/events/{event_id}/check-in").text
    assert "2 of 2 people checked in" in page and "Undo" in page
    client.post(url, data={"checked_in": "0"})
    client.post(url, data={"checked_in": "0"})
    with app.app_context():
        assert db.session.get(Rsvp, rsvp_id).checked_in_at is None


def test_a_check_in_without_its_hidden_field_changes_nothing(app, client, world):
    event_id = an_event(app, world)
    rsvp_id = rsvp_to(app, event_id, "ada@example.org")
    assert client.post(f"/organize/events/{event_id}/check-in/{rsvp_id}",
                       data={"checked_in": "yes"}).status_code == 400
    with app.app_context():
        assert db.session.get(Rsvp, rsvp_id).checked_in_at is None


def test_checking_in_an_rsvp_of_another_event_is_not_found(app, client, world):
    event_id = an_event(app, world)
    other_event = an_event(app, world)
    other_rsvp = rsvp_to(app, other_event, "ada@example.org")
    response = client.post(f"/organize/events/{event_id}/check-in/{other_rsvp}",
                           data={"checked_in": "1"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Rsvp, other_rsvp).checked_in_at is None


def test_another_organizers_events_and_rsvps_are_not_found(app, client, world):
    with app.app_context():
        foreign = make_event(make_campaign())
        rsvp = make_rsvp(foreign, "ada@example.org")
        db.session.commit()
        event_id, rsvp_id = foreign.id, rsvp.id
    for path in ("", "/edit", "/attendees", "/attendees.csv", "/check-in"):
        assert client.get(f"/organize/events/{event_id}{path}").status_code == 404
    assert client.post(f"/organize/events/{event_id}/check-in/{rsvp_id}",
                       data={"checked_in": "1"}).status_code == 404
    assert client.post(f"/organize/events/{event_id}/cancel", data={"confirm": "y"}).status_code == 404
    with app.app_context():
        assert db.session.get(Event, event_id).status == EventStatus.PUBLISHED
        assert db.session.get(Rsvp, rsvp_id).checked_in_at is None
    assert audit(app, "event.attendees_export") == []


# --- What organizers and attendees typed never runs ---------------------------------------------

def _event_pages(app, client, world, text):
    """The organizer's pages of an event whose every text field and attendee name is ``text``."""
    event_id = an_event(app, world, title=text, description=text, venue_name=text, address=text,
                        city=text, accessibility=text, contact=text)
    rsvp_to(app, event_id, f"a{event_id}@example.org", name=text)
    paths = {page: f"/organize/events/{event_id}{page}" for page in ("", "/edit", "/attendees", "/check-in")}
    paths["campaign"] = f"/organize/campaigns/{world['campaign']}/edit"
    pages = {}
    for page, path in paths.items():
        response = client.get(path)
        assert response.status_code == 200, path
        pages[page] = response.text
    return pages


def test_no_payload_in_an_event_or_an_attendee_name_runs_on_the_organizers_pages(app, client, world):
    from tests.unit.test_xss import PAYLOADS, assert_nothing_runs

    baseline = _event_pages(app, client, world, "Picket for housing")
    for payload in PAYLOADS:
        for path, html in _event_pages(app, client, world, payload).items():
            assert_nothing_runs(html, f"{path} with {payload!r}", baseline[path])
