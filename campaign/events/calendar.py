"""Events as iCalendar (RFC 5545): one event's file, a campaign's feed, email attachments.

Times are written in the event's own IANA zone with a VTIMEZONE for it, so a
phone shows the local time of the place even across a daylight-saving change.
UIDs are made from the event's id and the site's host, so a calendar that
imports the same event twice (the email attachment, then the feed) keeps one copy;
SEQUENCE rises when the time or place changes or the event is cancelled.
"""

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from flask import current_app

from campaign.events.models import EventStatus
from campaign.links import public_url

PRODUCT_ID = "-//Placard//Events//EN"


def event_uid(event):
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "placard.localhost"
    return f"event-{event.id}@{host}"


def public_event_url(event):
    return public_url("events.show", slug=event.slug)


def _local(moment, zone_name):
    return moment.astimezone(ZoneInfo(zone_name))


def _location(event):
    parts = [part for part in (event.venue_name, event.address.replace("\n", ", "), event.city) if part]
    # The city is often part of the address already.
    if event.city and event.city in event.address:
        parts.remove(event.city)
    return ", ".join(parts)


def _component(event, *, include_online_url, now):
    component = icalendar.Event()
    component.add("uid", event_uid(event))
    component.add("dtstamp", now)
    component.add("sequence", event.sequence)
    component.add("summary", event.title)
    component.add("dtstart", _local(event.starts_at, event.timezone))
    component.add("dtend", _local(event.ends_at, event.timezone))
    component.add("url", public_event_url(event))
    description = event.description
    if include_online_url and event.online_url:
        component.add("conference", event.online_url, parameters={"value": "URI"})
        description = f"{event.online_url}\n\n{description}".strip()
    if description:
        component.add("description", description)
    location = _location(event)
    if location:
        component.add("location", location)
    elif include_online_url and event.online_url:
        component.add("location", event.online_url)
    if event.status == EventStatus.CANCELLED:
        component.add("status", "CANCELLED")
    else:
        component.add("status", "CONFIRMED")
    component.add("last-modified", event.updated_at)
    return component


def calendar_for(events, *, name=None, include_online_url=False, now):
    """An iCalendar document (bytes, CRLF lines) holding ``events``.

    The online link of an event is only for its confirmed attendees: it goes in
    only with ``include_online_url`` (their email's attachment).
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(_component(event, include_online_url=include_online_url, now=now))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def event_filename(event):
    return f"{event.slug}.ics"
