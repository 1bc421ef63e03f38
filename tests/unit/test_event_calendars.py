"""Calendar files over HTTP: one event's .ics, an attendee's own copy, a campaign's feed."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from flask import url_for
from sqlalchemy import select

from campaign.db import utcnow
from campaign.events.models import Event, EventStatus, RsvpStatus
from campaign.events.rsvps import link_token
from campaign.extensions import db
from tests.factories import make_campaign
from tests.factories_events import make_event, make_rsvp

SECRET_ROOM = "https://meet.example.org/secret-room-42"
NEXT_YEAR = utcnow().year + 1
SUMMER_START = datetime(NEXT_YEAR, 7, 15, 22, 0, tzinfo=UTC)   # 18:00 in Toronto (EDT)
WINTER_START = datetime(NEXT_YEAR, 1, 20, 23, 0, tzinfo=UTC)   # 18:00 in Toronto (EST)


def parse(response):
    return icalendar.Calendar.from_ical(response.data)


def only_event(response):
    [component] = parse(response).walk("VEVENT")
    return component


@pytest.fixture
def events(app):
    with app.app_context():
        campaign = make_campaign(slug="transit", title="Fund transit, now")
        make_event(campaign, slug="summer", title="Summer picket", starts_at=SUMMER_START,
                   online_url=SECRET_ROOM)
        make_event(campaign, slug="winter", title="Winter vigil", starts_at=WINTER_START)
        make_event(campaign, slug="off", title="Called off", status=EventStatus.CANCELLED,
                   starts_at=SUMMER_START + timedelta(days=1))
        make_event(campaign, slug="draft", title="Draft meeting", status=EventStatus.DRAFT)
        make_event(campaign, slug="long-ago", title="Long ago", starts_at=utcnow() - timedelta(days=400))
        make_event(make_campaign(slug="other"), slug="elsewhere", title="Other campaign's rally")
        db.session.commit()


def test_an_events_calendar_file_is_served_as_an_attachment(client, events):
    response = client.get("/events/summer.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="summer.ics"'
    assert response.data.startswith(b"BEGIN:VCALENDAR\r\n")
    component = only_event(response)
    assert str(component["summary"]) == "Summer picket"
    assert str(component["url"]) == "http://localhost/events/summer"


@pytest.mark.parametrize(("slug", "stored", "utc_hour"), [
    ("summer", SUMMER_START, 22),
    ("winter", WINTER_START, 23),
])
def test_the_calendar_holds_the_same_instant_in_the_events_own_zone(client, events, slug, stored,
                                                                   utc_hour):
    response = client.get(f"/events/{slug}.ics")
    component = only_event(response)
    start = component.decoded("dtstart")
    assert start.astimezone(UTC) == stored and start.astimezone(UTC).hour == utc_hour
    assert (start.hour, start.minute) == (18, 0)
    assert component["dtstart"].params["TZID"] == "America/Toronto"
    assert component.decoded("dtend").astimezone(UTC) == stored + timedelta(hours=2)
    assert b"DTSTART;TZID=America/Toronto:" in response.data
    [zone] = parse(response).walk("VTIMEZONE")
    assert str(zone["tzid"]) == "America/Toronto"


def test_the_uid_is_stable_across_downloads(client, events):
    first, second = only_event(client.get("/events/summer.ics")), only_event(client.get("/events/summer.ics"))
    assert str(first["uid"]) == str(second["uid"])
    assert str(first["uid"]) != str(only_event(client.get("/events/winter.ics"))["uid"])


def test_a_cancelled_event_says_so_in_its_calendar(client, events):
    component = only_event(client.get("/events/off.ics"))
    assert str(component["status"]) == "CANCELLED"
    assert str(only_event(client.get("/events/summer.ics"))["status"]) == "CONFIRMED"


def test_the_public_calendar_never_holds_the_online_link(client, events):
    for url in ("/events/summer.ics", "/campaigns/transit/events.ics"):
        response = client.get(url)
        assert b"secret-room" not in response.data.replace(b"\r\n ", b"")
        for component in parse(response).walk("VEVENT"):
            assert "conference" not in component


def test_the_ics_address_is_not_swallowed_by_the_event_page(app, client, events):
    # /events/<slug>.ics and /events/<slug> are different rules; a slug never has a dot.
    assert client.get("/events/summer").headers["Content-Type"].startswith("text/html")
    assert client.get("/events/summer.ics").headers["Content-Type"].startswith("text/calendar")
    with app.test_request_context():
        assert url_for("events.calendar", slug="summer") == "/events/summer.ics"
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/events/summer.ics") == ("events.calendar", {"slug": "summer"})
    assert adapter.match("/events/summer") == ("events.show", {"slug": "summer"})
    assert client.get("/events/summer.ics.ics").status_code == 404
    assert client.get("/events/nope.ics").status_code == 404
    assert client.get("/events/draft.ics").status_code == 404


def test_a_campaign_feed_lists_its_public_events(client, events):
    response = client.get("/campaigns/transit/events.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "transit-events.ics" in response.headers["Content-Disposition"]
    calendar = parse(response)
    assert str(calendar["x-wr-calname"]) == "Fund transit, now"
    summaries = sorted(str(component["summary"]) for component in calendar.walk("VEVENT"))
    assert summaries == ["Called off", "Summer picket", "Winter vigil"]
    assert len({str(component["uid"]) for component in calendar.walk("VEVENT")}) == 3


def test_the_feed_of_an_unknown_or_draft_campaign_is_not_found(app, client, events):
    with app.app_context():
        make_campaign(slug="hidden", status="draft")
        db.session.commit()
    assert client.get("/campaigns/hidden/events.ics").status_code == 404
    assert client.get("/campaigns/nope/events.ics").status_code == 404
    assert client.get("/campaigns/%00/events.ics").status_code == 404


def test_a_confirmed_attendee_gets_the_online_link_in_their_own_calendar(app, client, events):
    with app.app_context():
        summer = db.session.scalars(select(Event).where(Event.slug == "summer")).one()
        confirmed = link_token(make_rsvp(summer, "going@example.org"))
        pending = link_token(make_rsvp(summer, "maybe@example.org", status=RsvpStatus.PENDING))
        db.session.commit()
    own = client.get(f"/events/rsvp/{confirmed}/event.ics")
    assert own.status_code == 200
    assert own.headers["Cache-Control"] == "no-store"
    assert own.headers["Referrer-Policy"] == "no-referrer"
    assert str(only_event(own)["conference"]) == SECRET_ROOM
    assert str(only_event(own)["uid"]) == str(only_event(client.get("/events/summer.ics"))["uid"])
    not_yet = client.get(f"/events/rsvp/{pending}/event.ics")
    assert not_yet.status_code == 200 and "conference" not in only_event(not_yet)
