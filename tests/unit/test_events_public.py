"""The public side of events: the listing, the event page, RSVPs through the browser, the
attendee's own page, the picket sign, and what a visitor might do wrong there."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from PIL import Image
from sqlalchemy import func, select

from campaign.campaigns.services import change_slug
from campaign.db import utcnow
from campaign.events.models import Event, EventKind, EventStatus, Rsvp, RsvpStatus
from campaign.events.rsvps import link_token
from campaign.extensions import db
from campaign.mail.models import OutboundEmail
from tests.conftest import Outbox
from tests.factories import make_campaign, make_petition
from tests.factories_events import make_event, make_rsvp

SECRET_ROOM = "https://meet.example.org/secret-room-42"
NEXT_YEAR = utcnow().year + 1


def rsvp_form(**overrides):
    values = {"name": "Ada Lovelace", "email": "ada@example.org", "guests": "0"}
    values.update(overrides)
    return {f"rsvp-{name}": value for name, value in values.items()}


def rsvp(client, slug, **overrides):
    return client.post(f"/events/{slug}/rsvp", data=rsvp_form(**overrides))


def rsvp_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Rsvp))


def rsvp_of(app, email):
    with app.app_context():
        found = db.session.scalars(
            select(Rsvp).where(Rsvp.supporter.has(email_key=email.lower()))).one()
        return {"status": found.status, "name": found.name, "guests": found.guests,
                "token": link_token(found), "id": found.id}


def field_error(response, field):
    match = re.search(rf'id="rsvp-{field}-error">([^<]*)<', response.text)
    return unescape(match.group(1)) if match else None


def rsvp_link(outbox, address):
    return Outbox.link(outbox.to(address)[-1], path="/events/rsvp/")


def readable(response):
    """The page's text with entities decoded and CLDR's narrow spaces ("6:00\u202fPM") plain."""
    return unescape(response.text).replace("\u202f", " ")


@pytest.fixture
def event(app):
    """A picket in Toronto next July at 18:00 local time, with an online link for attendees."""
    with app.app_context():
        campaign = make_campaign(slug="transit", title="Fund transit")
        make_petition(campaign=campaign, slug="fund-transit")
        found = make_event(campaign=campaign, slug="city-hall-picket", title="Picket at City Hall",
                           starts_at=datetime(NEXT_YEAR, 7, 15, 22, 0, tzinfo=UTC),
                           online_url=SECRET_ROOM, accessibility="Step-free entrance.",
                           contact="organizers@example.org")
        db.session.commit()
        return {"id": found.id, "slug": found.slug}


# --- The listing --------------------------------------------------------------------------------

@pytest.fixture
def listing(app):
    """Events of two campaigns, in two cities, with a draft, a cancelled and a past one."""
    now = utcnow()
    with app.app_context():
        transit = make_campaign(slug="transit", title="Fund transit")
        parks = make_campaign(slug="parks", title="Save the parks")
        make_event(transit, slug="third", title="Third rally", kind=EventKind.RALLY,
                   starts_at=now + timedelta(days=3))
        make_event(transit, slug="first", title="First picket", starts_at=now + timedelta(days=1))
        make_event(parks, slug="second", title="Second vigil", kind=EventKind.VIGIL, city="Montréal",
                   starts_at=now + timedelta(days=2))
        make_event(parks, slug="call", title="Online call", kind=EventKind.ONLINE, venue_name="",
                   address="", city="", online_url=SECRET_ROOM, starts_at=now + timedelta(days=4))
        make_event(transit, slug="off", title="Called-off march", kind=EventKind.MARCH,
                   status=EventStatus.CANCELLED, starts_at=now + timedelta(days=5))
        make_event(transit, slug="draft", title="Draft meeting", status=EventStatus.DRAFT,
                   starts_at=now + timedelta(days=1))
        make_event(transit, slug="last-year", title="Old picket", starts_at=now - timedelta(days=300))
        make_event(parks, slug="last-month", title="Recent vigil", starts_at=now - timedelta(days=30))
        db.session.commit()


def titles(response):
    return re.findall(r'class="event-title"><a href="[^"]+">([^<]+)<', response.text)


def test_upcoming_public_events_are_listed_soonest_first(client, listing):
    page = client.get("/events")
    assert page.status_code == 200
    assert titles(page) == ["First picket", "Second vigil", "Third rally", "Online call",
                            "Called-off march"]
    assert "Draft meeting" not in page.text and "Old picket" not in page.text
    item = page.text.split("Second vigil")[1].split("</li>")[0]
    assert "Montréal" in item and "Save the parks" in item and 'href="/campaigns/parks"' in item
    assert "Vigil" in page.text.split("Second vigil")[0].rsplit("<li", 1)[1]
    assert re.search(r"\(UTC[−+]\d\d:\d\d\)</time>", item)
    assert "Online</span>" in page.text.split("Online call")[1].split("</li>")[0]


def test_a_cancelled_event_stays_listed_with_a_clear_mark(client, listing):
    page = client.get("/events")
    item = page.text.split("Called-off march")[0].rsplit("<li", 1)[1]
    assert "is-cancelled" in item and "Cancelled" in item
    assert "Cancelled" not in page.text.split("First picket")[0].rsplit("<li", 1)[1]


def test_past_events_are_listed_latest_first(client, listing):
    upcoming = client.get("/events")
    assert 'href="/events?when=past"' in upcoming.text and "Past events" in upcoming.text
    page = client.get("/events?when=past")
    assert page.status_code == 200 and "<h1>Past events</h1>" in page.text
    assert titles(page) == ["Recent vigil", "Old picket"]
    assert 'href="/events"' in page.text


@pytest.mark.parametrize(("query", "expected"), [
    ("kind=vigil", ["Second vigil"]),
    ("city=montr%C3%A9al", ["Second vigil"]),
    ("campaign=parks", ["Second vigil", "Online call"]),
    ("online=1", ["Online call"]),
    ("campaign=transit&kind=rally", ["Third rally"]),
    ("when=past&campaign=parks", ["Recent vigil"]),
    ("campaign=no-such-campaign", []),
])
def test_filters_narrow_the_listing(client, listing, query, expected):
    page = client.get(f"/events?{query}")
    assert page.status_code == 200
    assert titles(page) == expected
    if not expected:
        assert "No upcoming events match these filters." in page.text


def test_the_filter_form_works_without_javascript_and_shows_the_choices(client, listing):
    page = client.get("/events?kind=vigil&city=Montr%C3%A9al&online=1&campaign=parks")
    form = page.text.split('class="event-filters"')[1].split("</form>")[0]
    assert 'method="get"' in page.text.split('class="event-filters"')[0].rsplit("<form", 1)[1]
    for label in ('for="filter-campaign"', 'for="filter-kind"', 'for="filter-city"',
                  'for="filter-online"'):
        assert label in form
    assert '<option value="vigil" selected>' in form
    assert '<option value="Montréal" selected>' in form and '<option value="Toronto">' in form
    assert '<option value="parks" selected>' in form
    assert 'name="online" value="1" checked' in form


def test_unknown_or_hostile_filter_values_are_ignored_without_error(client, listing):
    for query in ("kind=%3Cscript%3Ealert(1)%3C/script%3E", "page=-5", "page=abc", "page=99999999999",
                  "page=2.5", "online=yes&city=", "when=future", "city=" + "x" * 5000,
                  "campaign=%00%FF", "kind=PICKET", "city=%3Cb%3E"):
        page = client.get(f"/events?{query}")
        assert page.status_code == 200, query
        assert "<script>alert(1)" not in page.text and "<b>" not in page.text
    assert len(titles(client.get("/events?kind=%3Cscript%3E&page=-5"))) == 5
    assert "&lt;b&gt;" in client.get("/events?city=%3Cb%3E").text


def test_pagination_keeps_the_filters(app, client):
    start = utcnow() + timedelta(days=1)
    with app.app_context():
        campaign = make_campaign(slug="busy")
        for number in range(25):
            make_event(campaign, slug=f"vigil-{number:02d}", title=f"Vigil {number:02d}",
                       kind=EventKind.VIGIL, starts_at=start + timedelta(hours=number))
        make_event(campaign, slug="rally", kind=EventKind.RALLY, title="Rally", starts_at=start)
        db.session.commit()
    first = client.get("/events?kind=vigil")
    assert len(titles(first)) == 20 and titles(first)[0] == "Vigil 00"
    assert "Page 1 of 2" in first.text
    next_link = unescape(re.search(r'rel="next" href="([^"]+)"', first.text).group(1))
    assert "kind=vigil" in next_link and "page=2" in next_link
    second = client.get(next_link)
    assert titles(second) == [f"Vigil {number}" for number in range(20, 25)]
    previous = unescape(re.search(r'rel="prev" href="([^"]+)"', second.text).group(1))
    assert "kind=vigil" in previous and "page=1" in previous
    assert 'rel="next"' not in second.text
    # A page past the end shows the last one.
    assert titles(client.get("/events?kind=vigil&page=7")) == titles(second)


# --- The event page -----------------------------------------------------------------------------

def test_the_event_page_shows_the_event_in_its_own_zone_with_the_offset(client, event):
    page = client.get("/events/city-hall-picket")
    assert page.status_code == 200
    text = readable(page)
    assert f"July 15, {NEXT_YEAR}, 6:00 PM – 8:00 PM (UTC−04:00, America/Toronto)" in text
    for expected in ("Picket at City Hall", "Picket", "City Hall", "100 Queen Street West",
                     "Step-free entrance.", "organizers@example.org", 'href="/campaigns/transit"',
                     "<em>placard</em>", 'href="/events/city-hall-picket.ics"',
                     'href="/events/city-hall-picket/picket-sign"', 'name="rsvp-name"'):
        assert expected in page.text, expected


def test_a_winter_event_shows_standard_time(app, client):
    with app.app_context():
        make_event(slug="winter", starts_at=datetime(NEXT_YEAR, 1, 20, 23, 0, tzinfo=UTC))
        db.session.commit()
    text = readable(client.get("/events/winter"))
    assert f"January 20, {NEXT_YEAR}, 6:00 PM – 8:00 PM (UTC−05:00, America/Toronto)" in text


def test_the_online_link_never_appears_on_public_pages(app, client, event):
    pages = [client.get(url).text for url in (
        "/events", "/events/city-hall-picket", "/campaigns/transit", "/events/city-hall-picket.ics",
        "/campaigns/transit/events.ics", "/events/city-hall-picket/picket-sign")]
    for text in pages:
        assert "secret-room" not in text
    assert "the link is sent to confirmed attendees" in pages[1]


def test_an_online_event_says_where_the_link_comes_from(app, client):
    with app.app_context():
        make_event(slug="call", kind=EventKind.ONLINE, venue_name="", address="", city="",
                   online_url=SECRET_ROOM)
        db.session.commit()
    page = client.get("/events/call")
    assert "Online — the link is sent to confirmed attendees" in unescape(page.text)
    assert "secret-room" not in page.text


def test_places_left_and_a_full_event(app, client):
    with app.app_context():
        roomy = make_event(slug="roomy", capacity=10)
        full = make_event(slug="full", capacity=2)
        make_rsvp(roomy, guests=2)
        make_rsvp(full, guests=1)
        db.session.commit()
    assert "7 places left" in client.get("/events/roomy").text
    page = client.get("/events/full")
    assert "Full — new RSVPs join the waiting list" in unescape(page.text)
    assert 'name="rsvp-name"' in page.text


def test_a_renamed_event_answers_with_its_new_address(app, client):
    with app.app_context():
        renamed = make_event(slug="old-name")
        change_slug("event", renamed, "new-name")
        db.session.commit()
    for old, new in (("/events/old-name", "/events/new-name"),
                     ("/events/old-name.ics", "/events/new-name.ics"),
                     ("/events/old-name/picket-sign?paper=letter",
                      "/events/new-name/picket-sign?paper=letter")):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"].endswith(new)
    assert client.get("/events/new-name").status_code == 200


def test_a_draft_event_or_one_of_a_draft_campaign_is_not_found(app, client):
    with app.app_context():
        make_event(slug="hidden", status=EventStatus.DRAFT)
        make_event(make_campaign(status="draft"), slug="hidden-campaign")
        db.session.commit()
    for slug in ("hidden", "hidden-campaign"):
        assert client.get(f"/events/{slug}").status_code == 404
        assert client.get(f"/events/{slug}.ics").status_code == 404
        assert client.get(f"/events/{slug}/picket-sign").status_code == 404
        assert client.post(f"/events/{slug}/rsvp", data=rsvp_form()).status_code == 404
    assert rsvp_count(app) == 0


@pytest.mark.parametrize("path", [
    "/events/" + "a" * 5000, "/events/%C3%A9v%C3%A9nement", "/events/%00", "/events/..%2F..",
    "/events/" + "a" * 5000 + ".ics", "/events/x/picket-sign?paper=%3Cscript%3E",
    "/events/rsvp/" + "a" * 5000, "/events/rsvp/%F0%9F%92%A5", "/events/rsvp/x/event.ics",
    "/campaigns/" + "b" * 3000 + "/events.ics",
])
def test_odd_addresses_get_a_404_never_an_error(client, path):
    assert client.get(path).status_code == 404


# --- RSVP ---------------------------------------------------------------------------------------

def test_supporter_rsvps_confirms_by_button_and_sees_their_online_link(app, client, event, outbox):
    response = rsvp(client, "city-hall-picket", wants_updates="y", guests="1")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/events/city-hall-picket/check-email")
    page = client.get(response.headers["Location"])
    assert "Check your email" in page.text and "ada@example.org" in page.text

    [message] = outbox.to("ada@example.org")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "city-hall-picket.ics"
    assert "secret-room" not in attachment.get_content() and "secret-room" not in Outbox.text(message)

    link = rsvp_link(outbox, "ada@example.org")
    pending = client.get(link)
    assert pending.status_code == 200 and "Confirm my place" in pending.text
    assert pending.headers["Referrer-Policy"] == "no-referrer"
    assert pending.headers["Cache-Control"] == "no-store"
    assert "secret-room" not in pending.text
    assert rsvp_of(app, "ada@example.org")["status"] == RsvpStatus.PENDING  # GET never confirms

    confirmed = client.post(link + "/confirm")
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith(link.split("localhost")[1])
    page = client.get(link)
    assert "You're going" in readable(page) and "Your place is confirmed" in page.text
    assert f'href="{SECRET_ROOM}"' in page.text
    assert rsvp_of(app, "ada@example.org") | {"token": None, "id": None} == {
        "status": RsvpStatus.CONFIRMED, "name": "Ada Lovelace", "guests": 1, "token": None,
        "id": None}
    # The confirmation email carries the online link and the calendar with it.
    confirmed_email = outbox.to("ada@example.org")[-1]
    assert SECRET_ROOM in Outbox.text(confirmed_email)
    own_calendar = client.get(link + "/event.ics")
    assert own_calendar.status_code == 200 and SECRET_ROOM in own_calendar.text
    assert own_calendar.headers["Cache-Control"] == "no-store"


def test_confirming_twice_is_harmless(app, client, event, outbox):
    rsvp(client, "city-hall-picket")
    link = rsvp_link(outbox, "ada@example.org")
    assert client.post(link + "/confirm").status_code == 303
    assert client.post(link + "/confirm").status_code == 303
    assert rsvp_of(app, "ada@example.org")["status"] == RsvpStatus.CONFIRMED


def test_answering_twice_updates_the_rsvp_instead_of_adding_one(make_app):
    app = make_app(RESEND_INTERVAL_SECONDS=0)
    client = app.test_client()
    with app.app_context():
        make_event(slug="twice")
        db.session.commit()
    assert rsvp(client, "twice", name="Ada L.").status_code == 303
    assert rsvp(client, "twice", name="Ada Lovelace", guests="2").status_code == 303
    assert rsvp_count(app) == 1
    found = rsvp_of(app, "ada@example.org")
    assert found["name"] == "Ada Lovelace" and found["guests"] == 2


def test_answering_again_does_not_reveal_that_the_email_had_answered(make_app):
    app = make_app(RESEND_INTERVAL_SECONDS=0)
    outbox = Outbox(app)
    with app.app_context():
        make_event(slug="secretive")
        db.session.commit()
    first_visitor, second_visitor = app.test_client(), app.test_client()
    rsvp(first_visitor, "secretive", email="known@example.org")
    first_visitor.post(rsvp_link(outbox, "known@example.org") + "/confirm")

    repeat = rsvp(second_visitor, "secretive", email="known@example.org")
    repeat_page = second_visitor.get(repeat.headers["Location"]).text
    fresh = rsvp(second_visitor, "secretive", email="unknown@example.org")
    fresh_page = second_visitor.get(fresh.headers["Location"]).text
    assert repeat.status_code == fresh.status_code == 303
    assert repeat.headers["Location"] == fresh.headers["Location"]
    assert repeat_page.replace("known@example.org", "X") == fresh_page.replace(
        "unknown@example.org", "X")
    assert rsvp_of(app, "known@example.org")["status"] == RsvpStatus.CONFIRMED


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "Please enter your name."),
    ("name", "   ", "Please enter your name."),
    ("name", "A" * 201, "Please keep this under 200 characters."),
    ("name", "Ada\x00Lovelace", "Please remove the invisible control characters from this field."),
    ("name", "Ada\u202eecalevol", "Please remove the invisible control characters from this field."),
    ("email", "", "Please enter your email address."),
    ("email", "ada@", "This email address is not valid: "),
    ("email", "ada@example", "This email address is not valid: "),
    ("email", "ada lovelace@example.org", "This email address is not valid: "),
    ("email", "a" * 250 + "@example.org", "This email address is too long."),
    ("guests", "abc", "Please enter a number of guests from 0 to 10."),
    ("guests", "-1", "Please enter a number of guests from 0 to 10."),
    ("guests", "11", "Please enter a number of guests from 0 to 10."),
    ("guests", "2.5", "Please enter a number of guests from 0 to 10."),
    ("guests", "99999999999999999999", "Please enter a number of guests from 0 to 10."),
])
def test_each_bad_rsvp_field_gets_a_clear_message_and_nothing_is_stored(app, client, event, outbox,
                                                                         field, value, message):
    response = rsvp(client, "city-hall-picket", **{field: value})
    assert response.status_code == 422
    error = field_error(response, field)
    assert error is not None and error.startswith(message), error
    assert error.count(message) == 1
    assert f'aria-describedby="rsvp-{field}' in response.text and "aria-invalid" in response.text
    assert "Please correct the fields marked below." in response.text
    if field != "email":
        assert 'value="ada@example.org"' in response.text  # the rest is kept
    assert rsvp_count(app) == 0 and outbox.messages() == []


def test_an_invalid_email_is_told_why(client, event):
    response = rsvp(client, "city-hall-picket", email="ada@@example.org")
    assert "not valid" in field_error(response, "email") and len(field_error(response, "email")) > 40


def test_the_email_is_normalised_and_an_empty_guests_field_means_alone(app, client, event):
    assert rsvp(client, "city-hall-picket", email="Ada@EXAMPLE.org", guests="").status_code == 303
    assert rsvp_of(app, "ada@example.org")["guests"] == 0


def test_html_in_the_name_is_shown_escaped_never_run(app, client, event, outbox):
    script = "<script>alert(1)</script>"
    invalid = rsvp(client, "city-hall-picket", name=script, email="bad")
    assert invalid.status_code == 422
    assert script not in invalid.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in invalid.text
    assert rsvp(client, "city-hall-picket", name=script).status_code == 303
    page = client.get(rsvp_link(outbox, "ada@example.org"))
    assert script not in page.text and "&lt;script&gt;" in page.text


def test_the_consent_box_starts_unticked_and_records_its_wording(app, client, event, outbox):
    page = client.get("/events/city-hall-picket")
    box = re.search(r'<input[^>]*name="rsvp-wants_updates"[^>]*>', page.text).group(0)
    assert "checked" not in box
    assert "Keep me informed about this campaign" in page.text
    rsvp(client, "city-hall-picket", wants_updates="y")
    with app.app_context():
        found = db.session.scalars(select(Rsvp)).one()
        assert found.wants_updates and found.consent_wording == "Keep me informed about this campaign"


@pytest.mark.parametrize("state", ["cancelled", "past"])
def test_an_event_that_takes_no_rsvps_shows_no_form_and_refuses_them(app, client, state):
    with app.app_context():
        if state == "cancelled":
            make_event(slug="closed", status=EventStatus.CANCELLED)
        else:
            make_event(slug="closed", starts_at=utcnow() - timedelta(days=2))
        db.session.commit()
    page = client.get("/events/closed")
    assert page.status_code == 200 and 'name="rsvp-name"' not in page.text
    notice = {"cancelled": "This event has been cancelled", "past": "This event is over"}[state]
    assert notice in page.text
    response = rsvp(client, "closed")
    assert response.status_code == 409
    assert "This event no longer takes RSVPs" in response.text
    assert 'name="rsvp-name"' not in response.text
    assert rsvp_count(app) == 0


def test_a_bot_filling_the_honeypot_is_quietly_dropped(app, client, event, outbox):
    response = rsvp(client, "city-hall-picket", website="http://spam.example")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/events/city-hall-picket/check-email")
    assert rsvp_count(app) == 0 and outbox.messages() == []


def test_too_many_rsvps_from_one_address_are_rate_limited(make_app):
    app = make_app(RSVP_RATE_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        make_event(slug="limited")
        db.session.commit()
    statuses = [rsvp(client, "limited", email=f"n{n}@example.org").status_code for n in range(3)]
    assert statuses == [303, 303, 429]
    limited = rsvp(client, "limited", email="late@example.org")
    assert "Too many attempts" in limited.text and "wait a few minutes" in limited.text
    assert client.get("/events/limited").status_code == 200


def test_a_missing_or_stale_csrf_token_gives_the_rsvp_form_back_filled_in(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        make_event(slug="csrf")
        make_petition(slug="csrf")  # same slug, other kind: the RSVP form is the one given back
        db.session.commit()
    data = rsvp_form(name="Grace Hopper", guests="3", **{"csrf_token": "stale"})
    response = client.post("/events/csrf/rsvp", data=data)
    assert response.status_code == 400
    assert "form had expired" in response.text
    assert 'value="Grace Hopper"' in response.text and 'value="3"' in response.text
    assert 'name="rsvp-name"' in response.text and "Sign this petition" not in response.text
    token = re.search(r'name="rsvp-csrf_token" type="hidden" value="([^"]+)"', response.text)
    assert token and "placard_csrf" not in token.group(1)
    data["rsvp-csrf_token"] = token.group(1)
    assert client.post("/events/csrf/rsvp", data=data).status_code == 303
    assert rsvp_count(app) == 1
    # The sign form's own recovery still works.
    assert "form had expired" in client.post("/petitions/csrf/sign", data={}).text


def test_a_stale_page_on_the_attendee_buttons_asks_to_press_again(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        token = link_token(make_rsvp(make_event(), status=RsvpStatus.PENDING))
        db.session.commit()
    response = client.post(f"/events/rsvp/{token}/confirm", data={"csrf_token": "stale"})
    assert response.status_code == 303 and response.headers["Location"].endswith(token)
    page = client.get(f"/events/rsvp/{token}")
    assert "page had expired" in page.text and "Confirm my place" in page.text
    with app.app_context():
        assert db.session.scalars(select(Rsvp)).one().status == RsvpStatus.PENDING


@pytest.mark.parametrize("payload", [
    b"rsvp-name=%FF%FE&rsvp-email=%C0%AF@example.org",
    b"rsvp-name=" + b"%00" * 100 + b"&rsvp-guests=%00",
    {"rsvp-email": "a@b.c" * 10_000},
    {"rsvp-guests": ["1", "2"]},
    {"rsvp-guests": "\u0663"},
    {"rsvp-wants_updates": "maybe", "rsvp-name": "Ada", "rsvp-email": "ada@example.org"},
    {"wrong-prefix": "x"},
    {},
])
def test_no_rsvp_input_produces_a_server_error(client, event, payload):
    if isinstance(payload, bytes):
        response = client.post("/events/city-hall-picket/rsvp", data=payload,
                               content_type="application/x-www-form-urlencoded")
    else:
        response = client.post("/events/city-hall-picket/rsvp", data=payload)
    assert response.status_code < 500


# --- The attendee's own page --------------------------------------------------------------------

@pytest.mark.parametrize("token", ["nope", "a" * 43, "a" * 500, "é", "%00"])
def test_an_unknown_rsvp_link_gets_a_clear_404_with_a_way_forward(client, token):
    response = client.get(f"/events/rsvp/{token}")
    assert response.status_code == 404
    assert "This RSVP link does not work" in response.text and 'href="/events"' in response.text
    assert response.headers["Referrer-Policy"] == "no-referrer"
    for action in ("confirm", "cancel", "guests"):
        assert client.post(f"/events/rsvp/{token}/{action}", data={"guests": "1"}).status_code == 404


def test_an_expired_pending_link_says_so_and_offers_to_rsvp_again(app, client, event):
    with app.app_context():
        stale = make_rsvp(db.session.get(Event, event["id"]), "late@example.org",
                          status=RsvpStatus.PENDING, token_issued_at=utcnow() - timedelta(days=30))
        token = link_token(stale)
        db.session.commit()
    page = client.get(f"/events/rsvp/{token}")
    assert page.status_code == 410 and "This confirmation link has expired" in page.text
    assert 'href="/events/city-hall-picket#rsvp"' in page.text
    response = client.post(f"/events/rsvp/{token}/confirm")
    assert response.status_code == 410
    assert rsvp_of(app, "late@example.org")["status"] == RsvpStatus.PENDING


def test_confirming_for_a_cancelled_event_gets_a_clear_409(app, client):
    with app.app_context():
        closing = make_event(slug="closing")
        token = link_token(make_rsvp(closing, status=RsvpStatus.PENDING))
        closing.status = EventStatus.CANCELLED
        db.session.commit()
    page = client.get(f"/events/rsvp/{token}")
    assert page.status_code == 409 and "This event no longer takes RSVPs" in page.text
    assert "Confirm my place" not in page.text
    response = client.post(f"/events/rsvp/{token}/confirm")
    assert response.status_code == 409 and "This event no longer takes RSVPs" in response.text


def test_a_waitlisted_attendee_sees_the_waiting_list_and_no_online_link(app, client):
    with app.app_context():
        full = make_event(slug="full", capacity=1, online_url=SECRET_ROOM)
        make_rsvp(full)
        token = link_token(make_rsvp(full, status=RsvpStatus.WAITLISTED))
        db.session.commit()
    page = client.get(f"/events/rsvp/{token}")
    assert "You're on the waiting list" in readable(page) and "Cancel my RSVP" in page.text
    assert "secret-room" not in page.text
    calendar = client.get(f"/events/rsvp/{token}/event.ics")
    assert calendar.status_code == 200 and "secret-room" not in calendar.text


def test_cancelling_frees_the_place_for_the_waiting_list(app, client, outbox):
    with app.app_context():
        full = make_event(slug="full", capacity=1)
        holder = link_token(make_rsvp(full, "holder@example.org"))
        make_rsvp(full, "waiting@example.org", status=RsvpStatus.WAITLISTED, name="Grace")
        db.session.commit()
    response = client.post(f"/events/rsvp/{holder}/cancel")
    assert response.status_code == 303 and response.headers["Location"].endswith(holder)
    page = client.get(f"/events/rsvp/{holder}")
    assert "You cancelled your RSVP" in page.text and "Your RSVP is cancelled" in page.text
    assert 'href="/events/full#rsvp"' in page.text  # RSVP again
    assert "Cancel my RSVP" not in page.text
    assert rsvp_of(app, "waiting@example.org")["status"] == RsvpStatus.CONFIRMED
    [promoted] = outbox.to("waiting@example.org")
    assert "A place is yours" in promoted["Subject"]
    # Cancelling again is harmless; the cancelled link no longer gives a calendar.
    assert client.post(f"/events/rsvp/{holder}/cancel").status_code == 303
    assert client.get(f"/events/rsvp/{holder}/event.ics").status_code == 404


def test_an_attendee_changes_their_guests(app, client):
    with app.app_context():
        small = make_event(slug="small", capacity=4)
        token = link_token(make_rsvp(small, "ada@example.org"))
        make_rsvp(small, "other@example.org")
        db.session.commit()
    response = client.post(f"/events/rsvp/{token}/guests", data={"guests": "2"})
    assert response.status_code == 303
    assert "Your RSVP now counts 2 guests." in client.get(f"/events/rsvp/{token}").text
    assert rsvp_of(app, "ada@example.org")["guests"] == 2

    too_many = client.post(f"/events/rsvp/{token}/guests", data={"guests": "3"})
    assert too_many.status_code == 409
    error = unescape(re.search(r'id="guests-error">([^<]*)<', too_many.text).group(1))
    assert error == "There are no places left. You can bring at most 2 guests."
    assert rsvp_of(app, "ada@example.org")["guests"] == 2

    bad = client.post(f"/events/rsvp/{token}/guests", data={"guests": "abc"})
    assert bad.status_code == 422
    assert "Please enter a number of guests from 0 to 10." in unescape(bad.text)
    assert 'value="abc"' in bad.text


def test_not_enough_places_says_how_many_are_left(app, client):
    with app.app_context():
        roomy = make_event(slug="roomy", capacity=5)
        token = link_token(make_rsvp(roomy, guests=1))
        db.session.commit()
    response = client.post(f"/events/rsvp/{token}/guests", data={"guests": "6"})
    assert response.status_code == 409
    error = unescape(re.search(r'id="guests-error">([^<]*)<', response.text).group(1))
    assert error == "Only 3 places are left. You can bring at most 4 guests."


# --- The campaign page and the page cache -------------------------------------------------------

def test_the_campaign_page_lists_its_upcoming_events_and_its_calendar_feed(make_app):
    app = make_app(PAGE_CACHE_SECONDS=5)
    client = app.test_client()
    with app.app_context():
        campaign = make_campaign(slug="transit")
        make_petition(campaign=campaign, slug="fund-transit")
        make_event(campaign, slug="soon", title="Soon picket", city="Ottawa")
        make_event(campaign, slug="gone", title="Gone picket", starts_at=utcnow() - timedelta(days=3))
        make_event(campaign, slug="hidden", title="Hidden picket", status=EventStatus.DRAFT)
        db.session.commit()
    first, second = client.get("/campaigns/transit"), app.test_client().get("/campaigns/transit")
    assert first.status_code == second.status_code == 200
    for page in (first, second):
        assert 'href="/events/soon"' in page.text and "Ottawa" in page.text
        assert "Gone picket" not in page.text and "Hidden picket" not in page.text
        assert 'href="/campaigns/transit/events.ics"' in page.text
        assert "__placard_csrf_token__" not in page.text


def test_the_event_page_is_cached_but_a_visitors_errors_are_not(make_app):
    app = make_app(PAGE_CACHE_SECONDS=5)
    client = app.test_client()
    with app.app_context():
        make_event(slug="cached", title="Cached picket")
        db.session.commit()
    assert client.get("/events/cached").status_code == 200
    error = rsvp(client, "cached", name="Mallory", email="nope")
    assert error.status_code == 422 and 'value="Mallory"' in error.text
    again = app.test_client().get("/events/cached")
    assert "Mallory" not in again.text and "rsvp-email-error" not in again.text
    assert "__placard_csrf_token__" not in again.text


# --- The picket sign ----------------------------------------------------------------------------

def rasterise_qr_svg(svg):
    """The page's QR code as a picture: segno draws each row's dark runs as 1-unit-thick
    horizontal strokes ("M4 4.5h7m3 0h1…"), one unit per module."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg).group(1)
    image = Image.new("L", (size, size), 255)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([^MmHh]*)", path):
        values = [float(value) for value in numbers.replace(",", " ").split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            end = values[0] if command == "H" else x + values[0]
            for column in range(int(min(x, end)), int(max(x, end))):
                image.putpixel((column, int(y)), 0)
            x = end
    return image.resize((size * 8, size * 8), Image.NEAREST)


def test_the_picket_sign_shows_the_demand_and_a_qr_code_to_the_petition(client, event):
    import zxingcpp

    page = client.get("/events/city-hall-picket/picket-sign")
    assert page.status_code == 200
    expected = "http://localhost/petitions/fund-transit?source=event-city-hall-picket"
    assert expected in page.text
    assert "First demand" in page.text.split('class="sign-demand')[1].split("</h1>")[0]
    assert "Picket at City Hall" in page.text
    svg = re.search(r"<svg.*?</svg>", page.text, re.S).group(0)
    assert 'role="img"' in svg and "<title>" in svg
    # The Content-Security-Policy forbids inline styles: none anywhere on the page.
    assert "style=" not in page.text and "<style" not in page.text and "<script" not in page.text
    assert "css/picket-sign.css" in page.text and "css/picket-sign-a4.css" in page.text
    assert 'class="site-header"' not in page.text

    [decoded] = zxingcpp.read_barcodes(rasterise_qr_svg(svg))
    assert decoded.text == expected


def test_the_picket_sign_switches_paper_size(client, event):
    letter = client.get("/events/city-hall-picket/picket-sign?paper=letter")
    assert "css/picket-sign-letter.css" in letter.text and "picket-sign-a4.css" not in letter.text
    assert 'href="/events/city-hall-picket/picket-sign?paper=a4"' in letter.text
    odd = client.get("/events/city-hall-picket/picket-sign?paper=../../etc")
    assert odd.status_code == 200 and "css/picket-sign-a4.css" in odd.text


def test_the_paper_files_set_the_page_size(app):
    from pathlib import Path

    static = Path(app.static_folder) / "css"
    assert "size: A4" in (static / "picket-sign-a4.css").read_text()
    assert "size: letter" in (static / "picket-sign-letter.css").read_text()


def test_a_campaign_without_a_petition_gets_a_sign_without_qr_code(app, client):
    with app.app_context():
        make_event(make_campaign(), slug="no-petition")
        db.session.commit()
    page = client.get("/events/no-petition/picket-sign")
    assert page.status_code == 200
    assert "<svg" not in page.text and "no petition yet" in page.text
    assert "First demand" in page.text


def test_no_public_event_page_carries_an_inline_style_or_script(app, client, event, outbox):
    rsvp(client, "city-hall-picket")
    link = rsvp_link(outbox, "ada@example.org")
    for url in ("/events", "/events/city-hall-picket", "/events/city-hall-picket/check-email", link,
                "/campaigns/transit"):
        text = client.get(url).text
        assert " style=" not in text and "<style" not in text, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), url


def test_the_outbox_row_of_an_rsvp_carries_its_calendar(app, client, event):
    rsvp(client, "city-hall-picket")
    with app.app_context():
        [email] = db.session.scalars(select(OutboundEmail)).all()
        assert email.kind == "rsvp_confirmation"
        assert [a["content_type"] for a in email.attachments] == ["text/calendar"]
