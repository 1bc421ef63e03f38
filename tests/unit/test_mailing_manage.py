"""An organizer writes to a campaign's supporters: composes, narrows the audience, previews,
sends a test, sends or schedules, follows the progress, pauses and resumes. Another
organizer can neither see these mailings nor aim one at someone else's supporters."""

import email
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign.accounts.models import AuditEntry, User
from campaign.campaigns.models import Campaign
from campaign.db import utcnow
from campaign.events.models import Event, RsvpStatus
from campaign.extensions import db
from campaign.mail.models import OutboundEmail
from campaign.mailing import sending
from campaign.mailing.audience import Audience
from campaign.mailing.compose import MailingDetails, create_mailing
from campaign.mailing.manage_forms import check_merge_fields
from campaign.mailing.models import Delivery, Mailing, MailingStatus, Subscription
from campaign.mailing.render import Recipient, preview
from campaign.mailing.services import record_consent
from campaign.mailing.unsubscribe import unsubscribe
from campaign.petitions.models import Petition
from campaign.signatures.models import Signature, SignatureStatus, Supporter
from campaign.signatures.services import find_or_create_supporter_id
from tests.factories import make_campaign, make_petition
from tests.factories_accounts import login, make_user
from tests.factories_events import make_event, make_rsvp
from tests.unit.test_xss import PAYLOADS, _collect, assert_nothing_runs


@pytest.fixture
def world(app):
    with app.app_context():
        user = make_user(email="ana@example.org", name="Ana Organizer")
        other_user = make_user(email="bo@example.org", name="Bo Other")
        campaign = make_campaign(slug="housing", title="Homes for All")
        campaign.organizers.append(user)
        petition = make_petition(campaign=campaign, title="Rent freeze now")
        event = make_event(campaign, title="Picket at City Hall")
        other = make_campaign(slug="other")
        other.organizers.append(other_user)
        other_petition = make_petition(campaign=other)
        other_event = make_event(other)
        db.session.commit()
        return {"user": user.id, "other_user": other_user.id, "campaign": campaign.id,
                "petition": petition.id, "event": event.id, "other_campaign": other.id,
                "other_petition": other_petition.id, "other_event": other_event.id}


@pytest.fixture
def client(app, world):
    client = app.test_client()
    login(client, world["user"])
    return client


def subscribe(campaign, email_address, first_name="", **fields):
    supporter = db.session.get(Supporter, find_or_create_supporter_id(email_address, "en"))
    supporter.first_name = first_name
    for name, value in fields.items():
        setattr(supporter, name, value)
    return record_consent(supporter, campaign, "Keep me informed", "petition:test", utcnow())


def sign(petition, subscription, status=SignatureStatus.CONFIRMED):
    db.session.add(Signature(petition_id=petition.id, supporter_id=subscription.supporter_id,
                             status=status, first_name="S", last_name="T", country="CA",
                             confirmed_at=utcnow() if status == SignatureStatus.CONFIRMED else None))


@pytest.fixture
def supporters(app, world):
    """Six people on the campaign's list, five of them still on it, in different places; and
    one on another campaign's list. Returns how many the whole list reaches."""
    with app.app_context():
        campaign = db.session.get(Campaign, world["campaign"])
        petition = db.session.get(Petition, world["petition"])
        event = db.session.get(Event, world["event"])
        signer = subscribe(campaign, "signer@example.org", "Sam", country="CA", postal_code="M5V 2T6")
        sign(petition, signer)
        pending = subscribe(campaign, "pending@example.org", "Pat", country="CA", postal_code="K1A 0B1")
        sign(petition, pending, status=SignatureStatus.PENDING)
        subscribe(campaign, "attendee@example.org", "Alex", country="FR", postal_code="75001")
        make_rsvp(event, "attendee@example.org")
        subscribe(campaign, "cancelled@example.org", "Cy", country="FR", postal_code="75002")
        make_rsvp(event, "cancelled@example.org", status=RsvpStatus.CANCELLED)
        subscribe(campaign, "toronto@example.org", "Toni", country="CA", postal_code="m5v3a1")
        unsubscribe(subscribe(campaign, "left@example.org", "Lee", country="CA", postal_code="M5V 1A1"))
        subscribe(db.session.get(Campaign, world["other_campaign"]), "elsewhere@example.org", "El",
                  country="CA", postal_code="M5V 9Z9")
        db.session.commit()
    return 5


def compose_form(**overrides):
    data = {"subject": "News for {{ first_name }}",
            "body": 'Hello {{ first_name or "friend" }},\n\nThe picket is on **Saturday**.',
            "sender_name": "Ana Organizer", "reply_to": "", "petition_id": "", "event_id": "",
            "country": "", "postal_prefix": "", "action": "save"}
    data.update(overrides)
    return data


def new_mailing(client, world, **overrides):
    return client.post(f"/organize/campaigns/{world['campaign']}/mailings/new",
                       data=compose_form(**overrides))


def a_mailing(app, world, *, subject="Our news", body="Hello {{ first_name }}", campaign=None, **audience):
    with app.app_context():
        campaign = db.session.get(Campaign, campaign or world["campaign"])
        details = MailingDetails(subject=subject, body=body, audience=Audience(**audience))
        mailing = create_mailing(campaign, details, author=None)
        db.session.commit()
        return mailing.id


def the_mailing(app, mailing_id):
    with app.app_context():
        mailing = db.session.get(Mailing, mailing_id)
        db.session.expunge(mailing)
        return mailing


def only_mailing(app):
    with app.app_context():
        return db.session.scalars(select(Mailing.id)).one()


def mailing_files(app, mailing_id):
    """The messages of one mailing that the embedded outbox folder received."""
    return [email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in sorted(Path(app.config["OUTBOX_DIR"]).glob(f"mailing-{mailing_id}-*.eml"))]


def audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def flashes(client):
    """The messages waiting to be shown, taken off the session as the next page would."""
    with client.session_transaction() as session:
        return [message for _category, message in session.pop("_flashes", [])]


def start_without_batches(app, mailing_id, monkeypatch):
    """Freeze the audience and leave every delivery queued, as a busy worker would."""
    monkeypatch.setattr(sending, "_ask_for_batches", lambda mailing_id: None)
    with app.app_context():
        sending.start_mailing(db.session.get(Mailing, mailing_id))
        db.session.commit()
    monkeypatch.undo()


# --- The list of mailings ----------------------------------------------------------------------

def test_the_mailings_page_lists_each_mailing_and_the_number_of_subscribers(app, client, world, supporters):
    draft = a_mailing(app, world, subject="A draft to finish")
    sent = a_mailing(app, world, subject="Sent already")
    client.post(f"/organize/mailings/{sent}/send", data={"confirm": "y"})

    page = client.get(f"/organize/campaigns/{world['campaign']}/mailings")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "5 people are on this campaign's mailing list." in html
    assert f'href="/organize/mailings/{draft}"' in html and "A draft to finish" in html
    assert "Sent already" in html and "status-sent" in html and "status-draft" in html
    assert "Write to supporters" in html


def test_the_campaign_page_links_to_its_mailing_list(app, client, world, supporters):
    html = client.get(f"/organize/campaigns/{world['campaign']}/edit").get_data(as_text=True)
    assert 'id="mailing-list"' in html
    assert f"/organize/campaigns/{world['campaign']}/mailings/new" in html
    assert "5 people are on this campaign's mailing list." in html


# --- Composing ---------------------------------------------------------------------------------

def test_the_sender_name_starts_as_the_organizers_own(client, world):
    html = client.get(f"/organize/campaigns/{world['campaign']}/mailings/new").get_data(as_text=True)
    assert 'value="Ana Organizer"' in html
    assert "This audience holds 0 people right now." in html


def test_an_organizer_saves_a_draft_and_is_told_how_many_it_reaches(app, client, world, supporters):
    response = new_mailing(client, world, country="CA", reply_to="Replies@Example.org")

    mailing = the_mailing(app, only_mailing(app))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/organize/mailings/{mailing.id}")
    assert "Draft saved. This audience holds 3 people right now." in flashes(client)
    assert (mailing.status, mailing.subject, mailing.audience) == (
        MailingStatus.DRAFT, "News for {{ first_name }}", {"country": "CA"})
    assert mailing.reply_to == "Replies@example.org"
    assert mailing.author_id == world["user"]


def test_preview_and_text_buttons_save_and_come_back_to_the_form(app, client, world):
    response = new_mailing(client, world, action="preview")
    mailing_id = only_mailing(app)
    assert response.headers["Location"].endswith(f"/organize/mailings/{mailing_id}/edit#preview")

    response = client.post(f"/organize/mailings/{mailing_id}/edit",
                           data=compose_form(action="text", subject="Changed"))
    assert response.headers["Location"].endswith(
        f"/organize/mailings/{mailing_id}/edit?show=text#text-version")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<details id="text-version" class="mailing-text-version" open>' in html
    assert the_mailing(app, mailing_id).subject == "Changed"
    assert f'src="/organize/mailings/{mailing_id}/preview.html" sandbox' in html


@pytest.mark.parametrize(("fields", "message"), [
    ({"subject": ""}, "Please write a subject."),
    ({"subject": "x" * 201}, "Please keep this under 200 characters."),
    ({"subject": "Bell\x07 ringing"}, "invisible control characters"),
    ({"subject": "Hidden \u202eevil"}, "invisible control characters"),
    ({"body": "  "}, "Please write the message."),
    ({"body": "x" * 50_001}, "Please keep this under 50000 characters."),
    ({"body": "Null\x00 byte"}, "invisible control characters"),
    ({"reply_to": "not-an-address"}, "This email address is not valid"),
    ({"sender_name": "Ana\x1b[31m"}, "invisible control characters"),
    ({"sender_name": "A" * 101}, "Please keep this under 100 characters."),
    ({"postal_prefix": "M5V-2T6"}, "Please use only letters, digits and spaces."),
    ({"postal_prefix": "M5V 2T6 999"}, "Please keep this under 10 characters."),
    ({"country": "XX"}, "Please choose a country from the list."),
    ({"petition_id": "abc"}, "Please choose one of this campaign's petitions."),
])
def test_each_bad_input_is_refused_with_a_clear_message(app, client, world, fields, message):
    response = new_mailing(client, world, **fields)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Mailing)).all() == []


def test_a_subject_stays_on_one_line(app, client, world):
    new_mailing(client, world, subject="Two\nlines")
    assert the_mailing(app, only_mailing(app)).subject == "Two lines"


def test_unknown_merge_fields_are_named_with_the_ones_that_exist(client, world):
    response = new_mailing(client, world, body="Dear {{ name }}, see you in {{ city }}.")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Unknown merge fields: {{ city }}, {{ name }}." in html
    assert "The fields you can use are {{ first_name }}, {{ last_name }}" in html

    response = new_mailing(client, world, subject="Hi {{ email }}")
    assert response.status_code == 422
    assert "Unknown merge field: {{ email }}." in response.get_data(as_text=True)


@pytest.mark.parametrize("text", ["{{ first_name or friend }}", "{{ First_Name }}",
                                  "{{ first_name | upper }}", "{{ config }", "{{first_name or 'friend'}}"])
def test_braces_that_would_be_sent_as_typed_are_refused(client, world, text):
    response = new_mailing(client, world, body=f"Hello {text}.")
    if text == "{{ config }":
        # Not closed: nothing to fill in, nothing that looks like a field to the reader.
        assert response.status_code == 303
        return
    assert response.status_code == 422
    assert "cannot be filled in: it would be sent as typed" in response.get_data(as_text=True)


def test_every_merge_field_the_form_accepts_is_filled_in(ctx):
    body = ('{{first_name}} {{ last_name }} {{ first_name or "friend" }} {{last_name or""}} '
            '{{  first_name   or   "dear reader"  }}')
    check_merge_fields(body)  # accepted
    campaign = make_campaign()
    mailing = Mailing(campaign=campaign, campaign_id=campaign.id, subject="S", body=body)
    recipient = Recipient(delivery_id=0, subscription_id=0, email="x@example.org", first_name="",
                          last_name="", locale="en")
    _subject, text, html = preview(mailing, "en", recipient)
    assert "{{" not in text and "{{" not in str(html)
    assert "friend" in text and "dear reader" in text
    assert mailing not in db.session


def test_another_campaigns_petition_or_event_is_refused(app, client, world):
    response = new_mailing(client, world, petition_id=str(world["other_petition"]))
    assert response.status_code == 422
    assert "Please choose one of this campaign's petitions." in response.get_data(as_text=True)

    response = new_mailing(client, world, event_id=str(world["other_event"]))
    assert response.status_code == 422
    assert "Please choose one of this campaign's events." in response.get_data(as_text=True)

    mailing_id = a_mailing(app, world)
    response = client.post(f"/organize/mailings/{mailing_id}/edit",
                           data=compose_form(petition_id=str(world["other_petition"])))
    assert response.status_code == 422
    assert the_mailing(app, mailing_id).audience == {}


def test_editing_keeps_the_audience_and_changes_it(app, client, world, supporters):
    mailing_id = a_mailing(app, world, petition_id=world["petition"], postal_prefix="M5V")
    html = client.get(f"/organize/mailings/{mailing_id}/edit").get_data(as_text=True)
    assert f'<option selected value="{world["petition"]}">' in html
    assert 'value="M5V"' in html
    assert "This audience holds 1 person right now." in html

    response = client.post(f"/organize/mailings/{mailing_id}/edit",
                           data=compose_form(event_id=str(world["event"])))
    assert response.status_code == 303
    assert the_mailing(app, mailing_id).audience == {"event_id": world["event"]}
    assert "Draft saved. This audience holds 1 person right now." in flashes(client)


# --- The audience ------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "count"), [
    ({}, 5),
    ({"petition_id": "petition"}, 1),     # confirmed signers only
    ({"event_id": "event"}, 1),           # with a place or waiting; not the cancelled RSVP
    ({"country": "CA"}, 3),
    ({"country": "FR"}, 2),
    ({"postal_prefix": "M5V"}, 2),
    ({"postal_prefix": "m5v"}, 2),
    ({"postal_prefix": "M5V 2"}, 1),
    ({"postal_prefix": "M5V2T6"}, 1),
    ({"postal_prefix": "M 5 V"}, 2),
    ({"country": "CA", "postal_prefix": "K1A"}, 1),
    ({"petition_id": "petition", "country": "FR"}, 0),
])
def test_the_audience_count_for_each_narrowing(client, world, supporters, query, count):
    params = {name: str(world[value]) if name.endswith("_id") else value for name, value in query.items()}
    response = client.get(f"/organize/campaigns/{world['campaign']}/mailings/audience-count",
                          query_string=params)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["count"] == count
    assert response.json["label"].startswith("This audience holds")


def test_the_audience_count_refuses_what_the_form_refuses(client, world):
    url = f"/organize/campaigns/{world['campaign']}/mailings/audience-count"
    response = client.get(url, query_string={"petition_id": world["other_petition"]})
    assert response.status_code == 422
    assert response.json["errors"]["petition_id"] == ["Please choose one of this campaign's petitions."]


def test_the_count_shown_is_the_number_of_messages_sent(app, client, world, supporters):
    new_mailing(client, world, country="CA", body='Hi {{ first_name or "friend" }}')
    mailing_id = only_mailing(app)

    html = client.get(f"/organize/mailings/{mailing_id}").get_data(as_text=True)
    assert "This audience holds 3 people right now." in html
    assert "Send now to 3 people" in html
    response = client.post(f"/organize/mailings/{mailing_id}/send", data={"confirm": "y"})

    assert response.status_code == 303
    assert "Sending has started: 3 messages." in flashes(client)
    messages = mailing_files(app, mailing_id)
    assert sorted(message["To"] for message in messages) == [
        "pending@example.org", "signer@example.org", "toronto@example.org"]
    assert the_mailing(app, mailing_id).status == MailingStatus.SENT
    [entry] = audit(app, "mailing.send")
    assert (entry.subject_type, entry.subject_id, entry.campaign_id, entry.reason) == (
        "mailing", mailing_id, world["campaign"], "recipients=3")


def test_sending_needs_the_box_ticked(app, client, world, supporters):
    mailing_id = a_mailing(app, world)

    response = client.post(f"/organize/mailings/{mailing_id}/send", data={})

    assert response.status_code == 422
    assert "Please tick the box to confirm that you have checked the preview and the audience." \
        in response.get_data(as_text=True)
    assert the_mailing(app, mailing_id).status == MailingStatus.DRAFT
    assert mailing_files(app, mailing_id) == []


def test_an_empty_audience_sends_nothing(app, client, world, supporters):
    mailing_id = a_mailing(app, world, country="JP")
    response = client.post(f"/organize/mailings/{mailing_id}/send", data={"confirm": "y"})
    assert response.status_code == 303
    assert "Nothing was sent: this audience holds nobody right now." in flashes(client)
    assert the_mailing(app, mailing_id).status == MailingStatus.DRAFT


# --- Preview and test --------------------------------------------------------------------------

def test_the_preview_is_a_sandboxed_page_with_the_organizers_name(app, client, world):
    mailing_id = a_mailing(app, world, subject="Hi {{ first_name }}",
                           body="Dear {{ first_name }} {{ last_name }}")

    response = client.get(f"/organize/mailings/{mailing_id}/preview.html")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Dear Ana Organizer" in response.get_data(as_text=True)
    html = client.get(f"/organize/mailings/{mailing_id}").get_data(as_text=True)
    assert "Hi Ana" in html
    assert "shown with your name".lower() in html.lower()


@pytest.mark.parametrize("name", ["{{config}}", "<script>alert(1)</script>", "{{7*7}}"])
def test_a_name_in_the_preview_stays_as_typed(app, client, world, name):
    with app.app_context():
        db.session.get(User, world["user"]).name = name
        db.session.commit()
    mailing_id = a_mailing(app, world, subject="Hi {{ first_name }}", body="Dear {{ first_name }},")

    frame = client.get(f"/organize/mailings/{mailing_id}/preview.html").get_data(as_text=True)
    page = client.get(f"/organize/mailings/{mailing_id}").get_data(as_text=True)

    assert "<script>alert" not in frame and "<script>alert" not in page
    assert "SECRET_KEY" not in frame and "Dear 49" not in frame
    if name.startswith("<"):
        assert "Dear &lt;script&gt;alert(1)&lt;/script&gt;," in frame
    else:
        assert f"Dear {name}," in frame
        assert f"Hi {name}" in page


def test_a_supporters_name_is_sent_as_typed(app, client, world):
    with app.app_context():
        campaign = db.session.get(Campaign, world["campaign"])
        subscribe(campaign, "curly@example.org", "{{ config }}")
        subscribe(campaign, "script@example.org", "<script>x</script>")
        db.session.commit()
    mailing_id = a_mailing(app, world, body="Dear {{ first_name }},")
    client.post(f"/organize/mailings/{mailing_id}/send", data={"confirm": "y"})

    messages = {message["To"]: message for message in mailing_files(app, mailing_id)}
    curly = messages["curly@example.org"]
    assert "Dear {{ config }}," in curly.get_body(("plain",)).get_content()
    script_html = messages["script@example.org"].get_body(("html",)).get_content()
    assert "Dear &lt;script&gt;x&lt;/script&gt;," in script_html
    assert "<script>" not in script_html


def test_a_test_arrives_in_the_organizers_inbox_marked_test(app, client, world, outbox):
    mailing_id = a_mailing(app, world, subject="Our news for {{ first_name }}")

    response = client.post(f"/organize/mailings/{mailing_id}/test")

    assert response.status_code == 303
    assert "A test is on its way to ana@example.org, marked [Test]." in flashes(client)
    [message] = outbox.to("ana@example.org")
    assert message["Subject"] == "[Test] Our news for Ana"
    assert "only you receive it" in outbox.text(message)
    assert len(audit(app, "mailing.test")) == 1
    assert the_mailing(app, mailing_id).status == MailingStatus.DRAFT


# --- Scheduling --------------------------------------------------------------------------------

@pytest.mark.parametrize(("day", "clock", "utc"), [
    ("2031-07-15", "09:30", datetime(2031, 7, 15, 13, 30, tzinfo=UTC)),   # EDT, UTC−4
    ("2031-01-15", "09:30", datetime(2031, 1, 15, 14, 30, tzinfo=UTC)),   # EST, UTC−5
    ("2031-11-02", "01:30", datetime(2031, 11, 2, 5, 30, tzinfo=UTC)),    # repeated hour: the first
])
def test_a_time_in_toronto_is_stored_as_the_right_utc_instant(app, client, world, day, clock, utc):
    mailing_id = a_mailing(app, world)

    response = client.post(f"/organize/mailings/{mailing_id}/schedule",
                           data={"send_date": day, "send_time": clock, "timezone": "America/Toronto"})

    assert response.status_code == 303
    mailing = the_mailing(app, mailing_id)
    assert (mailing.status, mailing.scheduled_at, mailing.scheduled_timezone) == (
        MailingStatus.SCHEDULED, utc, "America/Toronto")
    assert any(message.startswith("Scheduled. It will be sent on") for message in flashes(client))
    with client.session_transaction() as session:
        assert session["organizer_timezone"] == "America/Toronto"
    [entry] = audit(app, "mailing.schedule")
    assert entry.reason == f"{utc.isoformat()} America/Toronto"
    html = client.get(f"/organize/mailings/{mailing_id}").get_data(as_text=True)
    assert "Scheduled for" in html and "America/Toronto" in html


@pytest.mark.parametrize(("fields", "message"), [
    ({"send_date": "2020-01-01", "send_time": "10:00"}, "This time has passed"),
    # The clocks go from 02:00 to 03:00 in Toronto on 9 March 2031.
    ({"send_date": "2031-03-09", "send_time": "02:30"}, "This time does not exist in that time zone"),
    ({"send_date": "", "send_time": "10:00"}, "Please choose the day to send it."),
    ({"send_date": "2031-03-09", "send_time": "25:00"}, "Please enter a time as HH:MM"),
    ({"send_date": "2031-03-09", "send_time": "10:00", "timezone": "Mars/Olympus"}, "Not a valid choice"),
])
def test_a_past_or_impossible_time_is_refused(app, client, world, fields, message):
    mailing_id = a_mailing(app, world)
    data = {"timezone": "America/Toronto", **fields}

    response = client.post(f"/organize/mailings/{mailing_id}/schedule", data=data)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert the_mailing(app, mailing_id).status == MailingStatus.DRAFT


def test_a_time_a_few_minutes_ahead_is_accepted(app, client, world):
    mailing_id = a_mailing(app, world)
    soon = (datetime.now(UTC) + timedelta(minutes=5)).replace(second=0, microsecond=0)
    late = soon + timedelta(minutes=5)
    response = client.post(f"/organize/mailings/{mailing_id}/schedule", data={
        "send_date": late.date().isoformat(), "send_time": late.strftime("%H:%M"), "timezone": "UTC"})
    assert response.status_code == 303
    assert the_mailing(app, mailing_id).scheduled_at == late


def test_unscheduling_makes_a_draft_again(app, client, world):
    mailing_id = a_mailing(app, world)
    client.post(f"/organize/mailings/{mailing_id}/schedule",
                data={"send_date": "2031-07-15", "send_time": "09:30", "timezone": "UTC"})

    response = client.post(f"/organize/mailings/{mailing_id}/unschedule")

    assert response.status_code == 303
    mailing = the_mailing(app, mailing_id)
    assert (mailing.status, mailing.scheduled_at) == (MailingStatus.DRAFT, None)
    assert len(audit(app, "mailing.unschedule")) == 1


def test_a_scheduled_mailing_can_still_be_edited(app, client, world):
    mailing_id = a_mailing(app, world)
    client.post(f"/organize/mailings/{mailing_id}/schedule",
                data={"send_date": "2031-07-15", "send_time": "09:30", "timezone": "UTC"})

    page = client.get(f"/organize/mailings/{mailing_id}/edit").get_data(as_text=True)
    assert "This mailing is scheduled: what you save here is what will be sent." in page
    client.post(f"/organize/mailings/{mailing_id}/edit", data=compose_form(subject="New subject"))

    mailing = the_mailing(app, mailing_id)
    assert (mailing.status, mailing.subject) == (MailingStatus.SCHEDULED, "New subject")


# --- Progress, pause and resume ----------------------------------------------------------------

def test_progress_while_sending_then_pause_and_resume(app, client, world, supporters, monkeypatch):
    mailing_id = a_mailing(app, world)
    start_without_batches(app, mailing_id, monkeypatch)

    progress = client.get(f"/organize/mailings/{mailing_id}/progress.json")
    assert progress.status_code == 200
    assert progress.headers["Cache-Control"] == "no-store"
    assert {key: progress.json[key] for key in ("status", "total", "queued", "sent", "failed", "skipped",
                                                "percent", "done")} == {
        "status": "sending", "total": 5, "queued": 5, "sent": 0, "failed": 0, "skipped": 0,
        "percent": 0, "done": 0}
    assert progress.json["labels"]["time_left"] == "Working out how long it will take…"
    page = client.get(f"/organize/mailings/{mailing_id}").get_data(as_text=True)
    assert '<progress id="progress-bar" max="5" value="0">' in page
    assert "Refresh" in page and "/pause" in page and "Send now" not in page

    assert client.post(f"/organize/mailings/{mailing_id}/pause").status_code == 303
    assert the_mailing(app, mailing_id).status == MailingStatus.PAUSED
    assert client.get(f"/organize/mailings/{mailing_id}/progress.json").json["labels"]["time_left"] \
        .startswith("Paused")

    assert client.post(f"/organize/mailings/{mailing_id}/resume").status_code == 303
    # In-process jobs: resuming sent everything that waited.
    assert the_mailing(app, mailing_id).status == MailingStatus.SENT
    assert len(mailing_files(app, mailing_id)) == 5
    done = client.get(f"/organize/mailings/{mailing_id}/progress.json").json
    assert (done["sent"], done["percent"], done["labels"]["time_left"]) == (5, 100, "Finished.")
    assert [len(audit(app, action)) for action in ("mailing.pause", "mailing.resume")] == [1, 1]


def test_big_figures_are_formatted_for_people_and_plain_for_the_progress_bar(app, client, world, supporters,
                                                                           monkeypatch):
    from campaign.mailing import manage
    from campaign.mailing.sending import Progress

    mailing_id = a_mailing(app, world)
    start_without_batches(app, mailing_id, monkeypatch)
    monkeypatch.setattr(manage, "mailing_progress", lambda mailing: Progress(
        total=12_345, queued=2_345, sending=0, sent=10_000, failed=0, skipped=0, per_minute=1_200.0,
        seconds_left=118))

    html = client.get(f"/organize/mailings/{mailing_id}").get_data(as_text=True)
    labels = client.get(f"/organize/mailings/{mailing_id}/progress.json").json["labels"]

    assert '<progress id="progress-bar" max="12345" value="10000">' in html
    assert '<dd data-progress="total">12,345</dd>' in html
    assert "1,200 messages sent in the last minute." in html and "About 2 minutes left." in html
    assert (labels["total"], labels["waiting"], labels["percent_label"]) == ("12,345", "2,345", "81%")


def test_time_left_is_told_in_minutes(app, world, supporters, monkeypatch):
    from campaign.mailing.manage import time_left_label
    from campaign.mailing.sending import Progress

    mailing_id = a_mailing(app, world)
    start_without_batches(app, mailing_id, monkeypatch)
    mailing = the_mailing(app, mailing_id)
    with app.test_request_context():
        def left(seconds):
            return time_left_label(mailing, Progress(total=9, queued=9, sending=0, sent=0, failed=0,
                                                     skipped=0, per_minute=1.0, seconds_left=seconds))
        assert left(30) == "Less than a minute left."
        assert left(60) == "About 1 minute left."
        assert left(61) == "About 2 minutes left."
        assert left(3600) == "About 60 minutes left."


# --- State errors ------------------------------------------------------------------------------

def test_actions_that_no_longer_fit_the_mailing_are_explained_not_errors(app, client, world, supporters):
    draft = a_mailing(app, world)
    for action in ("pause", "resume", "unschedule"):
        response = client.post(f"/organize/mailings/{draft}/{action}")
        assert response.status_code == 303, action
        assert flashes(client) == ["That is not possible any more: this mailing is now “Draft”."]

    sent = a_mailing(app, world)
    client.post(f"/organize/mailings/{sent}/send", data={"confirm": "y"})
    flashes(client)
    for action, data in (("send", {"confirm": "y"}), ("cancel", {"confirm": "y"}), ("test", {}),
                         ("schedule", {"send_date": "2031-07-15", "send_time": "09:30", "timezone": "UTC"}),
                         ("pause", {}), ("resume", {})):
        response = client.post(f"/organize/mailings/{sent}/{action}", data=data)
        assert response.status_code == 303, action
        assert flashes(client) == ["That is not possible any more: this mailing is now “Sent”."], action

    response = client.get(f"/organize/mailings/{sent}/edit")
    assert response.status_code == 303
    assert flashes(client) == ["This mailing can no longer be changed: it is “Sent”."]
    assert len(mailing_files(app, sent)) == 5


def test_cancelling_needs_the_box_and_keeps_the_mailing_listed(app, client, world):
    mailing_id = a_mailing(app, world, subject="Never mind")
    assert client.post(f"/organize/mailings/{mailing_id}/cancel", data={}).status_code == 422
    assert the_mailing(app, mailing_id).status == MailingStatus.DRAFT

    response = client.post(f"/organize/mailings/{mailing_id}/cancel", data={"confirm": "y"})

    assert response.status_code == 303
    assert the_mailing(app, mailing_id).status == MailingStatus.CANCELLED
    assert len(audit(app, "mailing.cancel")) == 1
    listing = client.get(f"/organize/campaigns/{world['campaign']}/mailings").get_data(as_text=True)
    assert "Never mind" in listing and "status-cancelled" in listing


def test_the_audit_log_names_mailing_actions(app, client, world):
    mailing_id = a_mailing(app, world)
    client.post(f"/organize/mailings/{mailing_id}/test")
    html = client.get(f"/organize/campaigns/{world['campaign']}/audit").get_data(as_text=True)
    assert "Mailing test sent" in html and f"Mailing #{mailing_id}" in html


# --- Access ------------------------------------------------------------------------------------

def test_another_organizer_can_neither_see_nor_act_on_the_mailings(app, world, supporters):
    mailing_id = a_mailing(app, world)
    other = app.test_client()
    login(other, world["other_user"])

    for url in (f"/organize/campaigns/{world['campaign']}/mailings",
                f"/organize/campaigns/{world['campaign']}/mailings/new",
                f"/organize/campaigns/{world['campaign']}/mailings/audience-count",
                f"/organize/mailings/{mailing_id}", f"/organize/mailings/{mailing_id}/edit",
                f"/organize/mailings/{mailing_id}/preview.html",
                f"/organize/mailings/{mailing_id}/progress.json"):
        assert other.get(url).status_code == 404, url
    for action in ("edit", "test", "send", "schedule", "unschedule", "pause", "resume", "cancel"):
        response = other.post(f"/organize/mailings/{mailing_id}/{action}",
                              data={**compose_form(), "confirm": "y"})
        assert response.status_code == 404, action
    assert other.post(f"/organize/campaigns/{world['campaign']}/mailings/new",
                      data=compose_form()).status_code == 404
    assert the_mailing(app, mailing_id).status == MailingStatus.DRAFT
    assert mailing_files(app, mailing_id) == []
    with app.app_context():
        assert db.session.scalar(select(Delivery.id)) is None
        assert db.session.scalars(select(OutboundEmail)).all() == []


def test_another_organizer_cannot_aim_a_mailing_at_this_campaigns_supporters(app, world, supporters):
    other = app.test_client()
    login(other, world["other_user"])

    response = other.post(f"/organize/campaigns/{world['other_campaign']}/mailings/new",
                          data=compose_form(petition_id=str(world["petition"])))
    assert response.status_code == 422
    response = other.post(f"/organize/campaigns/{world['other_campaign']}/mailings/new",
                          data=compose_form(event_id=str(world["event"])))
    assert response.status_code == 422
    count = other.get(f"/organize/campaigns/{world['other_campaign']}/mailings/audience-count",
                      query_string={"event_id": world["event"]})
    assert count.status_code == 422

    # Their own list holds only their own subscriber.
    assert other.post(f"/organize/campaigns/{world['other_campaign']}/mailings/new",
                      data=compose_form()).status_code == 303
    with app.app_context():
        mailing_id = db.session.scalars(select(Mailing.id)).one()
        assert db.session.scalars(select(Subscription.campaign_id)
                                  .where(Subscription.campaign_id == world["other_campaign"])).all()
    other.post(f"/organize/mailings/{mailing_id}/send", data={"confirm": "y"})
    assert [message["To"] for message in mailing_files(app, mailing_id)] == ["elsewhere@example.org"]


# --- Organizer-written text never runs ---------------------------------------------------------

def _organizer_pages(app, client, world, text):
    with app.app_context():
        campaign = db.session.get(Campaign, world["campaign"])
        details = MailingDetails(subject=text[:200], body=text, sender_name=text[:100])
        mailing_id = create_mailing(campaign, details, author=None).id
        db.session.commit()
    pages = {}
    for name, path in (("list", f"/organize/campaigns/{world['campaign']}/mailings"),
                       ("show", f"/organize/mailings/{mailing_id}"),
                       ("edit", f"/organize/mailings/{mailing_id}/edit"),
                       ("preview", f"/organize/mailings/{mailing_id}/preview.html")):
        response = client.get(path)
        assert response.status_code == 200, path
        pages[name] = response.text
    return pages


@pytest.fixture
def baseline_mailing_pages(app, client, world):
    return _organizer_pages(app, client, world, "Peace treaty now")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_in_a_mailing_runs_on_the_organizers_pages_or_in_the_preview(
        app, client, world, baseline_mailing_pages, payload):
    for path, html in _organizer_pages(app, client, world, payload).items():
        if path == "preview":
            # The email's own template styles its elements; nothing else may appear.
            page, expected = _collect(html), _collect(baseline_mailing_pages[path])
            assert Counter(page.problems) - Counter(expected.problems) == Counter(), path
            assert page.tags - expected.tags == Counter(), path
        else:
            assert_nothing_runs(html, path, baseline_mailing_pages[path])


def test_every_action_needs_the_forms_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_user()
        campaign = make_campaign()
        campaign.organizers.append(user)
        mailing_id = create_mailing(campaign, MailingDetails(subject="S", body="B"), author=None).id
        db.session.commit()
    client = app.test_client()
    login(client, user)
    for action in ("edit", "test", "send", "schedule", "unschedule", "pause", "resume", "cancel"):
        response = client.post(f"/organize/mailings/{mailing_id}/{action}", data={"confirm": "y"})
        assert response.status_code == 400, action
    assert the_mailing(app, mailing_id).status == MailingStatus.DRAFT
