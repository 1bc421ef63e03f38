"""Placard's records as OSDI resources, the shapes Action Network's v2 API gives them.

Plain functions from records to dicts, used by the API's views and by webhooks
alike, so a signature reads the same in a response and in a webhook. Links are
absolute and built on PUBLIC_URL, so a worker with no request builds the same.
Field names are OSDI's; what OSDI has no field for is prefixed ``placard:``.
"""

import dataclasses
from datetime import UTC

from flask import current_app

from campaign.events.models import EventStatus, RsvpStatus
from campaign.links import public_url
from campaign.text import render_markdown

ORIGIN_SYSTEM = "Placard"
ID_PREFIX = "placard:"
# OSDI's statuses for an attendance, from Placard's for an RSVP.
ATTENDANCE_STATUSES = {
    RsvpStatus.CONFIRMED: "accepted",
    RsvpStatus.WAITLISTED: "tentative",
    RsvpStatus.PENDING: "needs action",
    RsvpStatus.CANCELLED: "declined",
}
EVENT_STATUSES = {
    EventStatus.PUBLISHED: "confirmed",
    EventStatus.DRAFT: "tentative",
    EventStatus.CANCELLED: "cancelled",
}


def api_root():
    return current_app.config["PUBLIC_URL"].rstrip("/") + "/api/v2"


def api_href(*parts):
    return {"href": "/".join((api_root(), *parts))}


def curies():
    return [{"name": "osdi", "href": current_app.config["PUBLIC_URL"].rstrip("/")
             + "/api/docs#{rel}", "templated": True}]


def iso(moment):
    """ISO 8601 in UTC to the second, as Action Network writes dates: 2026-07-27T18:00:00Z."""
    if moment is None:
        return None
    # isoformat, not strftime: %Y writes year 1 as "1", not the "0001" ISO 8601 needs.
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _common(record, dates=None):
    created_at, updated_at = dates or (record.created_at, record.updated_at)
    return {
        "identifiers": [ID_PREFIX + record.uuid],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(created_at),
        "modified_date": iso(updated_at),
    }


@dataclasses.dataclass(frozen=True)
class PersonDetails:
    """What a reader may see of a person's names, postal address and language: never the
    shared supporter record, which may hold what they told another campaign."""

    given_name: str = ""
    family_name: str = ""
    postal_code: str = ""
    country: str = ""
    locale: str = ""

    @classmethod
    def of_signature(cls, signature):
        return cls(signature.first_name, signature.last_name, signature.postal_code,
                   signature.country, signature.locale)

    @classmethod
    def of_rsvp(cls, rsvp):
        return cls(given_name=rsvp.name, locale=rsvp.locale)


def person_resource(supporter, *, subscribed, details, dates):
    """A supporter as an OSDI person. ``subscribed``: on the mailing list of one of the
    campaigns the reader may see (an email status is always about someone's lists);
    ``details``: the :class:`PersonDetails` the reader may see; ``dates``: when those
    campaigns first heard of the person and last changed what they hold of them
    (``campaign.api.scope.person_dates``), never the shared record's."""
    return {
        **_common(supporter, dates),
        "given_name": details.given_name,
        "family_name": details.family_name,
        "email_addresses": [{"primary": True, "address": supporter.email,
                             "status": "subscribed" if subscribed else "unsubscribed"}],
        "postal_addresses": [{"primary": True, "postal_code": details.postal_code,
                              "country": details.country}],
        "languages_spoken": [details.locale] if details.locale else [],
        "_links": {
            "self": api_href("people", supporter.uuid),
            "osdi:signatures": api_href("people", supporter.uuid, "signatures"),
            "osdi:attendances": api_href("people", supporter.uuid, "attendances"),
            "osdi:taggings": api_href("people", supporter.uuid, "taggings"),
        },
    }


def petition_resource(petition, *, total_signatures):
    return {
        **_common(petition),
        "title": petition.title,
        "description": str(render_markdown(petition.body)),
        "petition_text": petition.body,
        "target": [{"name": petition.target}],
        "total_signatures": total_signatures,
        "browser_url": public_url("petitions.show", slug=petition.slug),
        "placard:status": str(petition.status),
        "placard:goal": petition.goal,
        "placard:deadline": iso(petition.deadline_at),
        "_links": {
            "self": api_href("petitions", petition.uuid),
            "osdi:signatures": api_href("petitions", petition.uuid, "signatures"),
            "osdi:record_signature_helper": api_href("petitions", petition.uuid, "signatures"),
            "placard:list": api_href("lists", petition.campaign.uuid),
        },
    }


def signature_resource(signature, *, with_person=False, subscribed=False, person_dates=None):
    """A confirmed or pending signature (``placard:status`` says which). ``with_person``
    puts the signer inline under ``person`` (with ``person_dates``), as Action
    Network's webhooks do."""
    petition_uuid, person_uuid = signature.petition.uuid, signature.supporter.uuid
    resource = {
        **_common(signature),
        "comments": signature.comment,
        "placard:status": str(signature.status),
        "placard:confirmed_date": iso(signature.confirmed_at),
        "placard:source": signature.source,
        "referrer_data": {"source": signature.utm_source, "website": signature.referrer_host},
        "_links": {
            "self": api_href("petitions", petition_uuid, "signatures", signature.uuid),
            "osdi:petition": api_href("petitions", petition_uuid),
            "osdi:person": api_href("people", person_uuid),
        },
    }
    if with_person:
        resource["person"] = person_resource(signature.supporter, subscribed=subscribed,
                                             details=PersonDetails.of_signature(signature),
                                             dates=person_dates)
    return resource


def event_resource(event, *, total_accepted):
    location = {"venue": event.venue_name,
                "address_lines": [line for line in event.address.splitlines() if line.strip()],
                "locality": event.city}
    return {
        **_common(event),
        "title": event.title,
        "description": str(render_markdown(event.description)),
        "browser_url": public_url("events.show", slug=event.slug),
        "status": EVENT_STATUSES[event.status],
        "start_date": iso(event.starts_at),
        "end_date": iso(event.ends_at),
        "capacity": event.capacity,
        "total_accepted": total_accepted,
        "location": location,
        "placard:kind": str(event.kind),
        "placard:timezone": event.timezone,
        "_links": {
            "self": api_href("events", event.uuid),
            "osdi:attendances": api_href("events", event.uuid, "attendances"),
            "osdi:record_attendance_helper": api_href("events", event.uuid, "attendances"),
            "placard:list": api_href("lists", event.campaign.uuid),
        },
    }


def attendance_resource(rsvp, *, with_person=False, subscribed=False, person_dates=None):
    event_uuid, person_uuid = rsvp.event.uuid, rsvp.supporter.uuid
    resource = {
        **_common(rsvp),
        "status": ATTENDANCE_STATUSES[rsvp.status],
        "placard:guests": rsvp.guests,
        "_links": {
            "self": api_href("events", event_uuid, "attendances", rsvp.uuid),
            "osdi:event": api_href("events", event_uuid),
            "osdi:person": api_href("people", person_uuid),
        },
    }
    if with_person:
        resource["person"] = person_resource(rsvp.supporter, subscribed=subscribed,
                                             details=PersonDetails.of_rsvp(rsvp),
                                             dates=person_dates)
    return resource


def tag_resource(tag):
    return {
        **_common(tag),
        "name": tag.name,
        "_links": {
            "self": api_href("tags", tag.uuid),
            "osdi:taggings": api_href("tags", tag.uuid, "taggings"),
            "placard:list": api_href("lists", tag.campaign.uuid),
        },
    }


def tagging_resource(tagging):
    tag_uuid = tagging.tag.uuid
    return {
        **_common(tagging),
        "item_type": "osdi:person",
        "_links": {
            "self": api_href("tags", tag_uuid, "taggings", tagging.uuid),
            "osdi:tag": api_href("tags", tag_uuid),
            "osdi:person": api_href("people", tagging.supporter.uuid),
        },
    }


def list_resource(campaign, *, total_items):
    """A campaign's mailing list: everyone who agreed to hear from it and has not left."""
    return {
        **_common(campaign),
        "name": campaign.title,
        "title": campaign.title,
        "description": campaign.summary,
        "browser_url": public_url("campaigns.show", slug=campaign.slug),
        "total_items": total_items,
        "_links": {
            "self": api_href("lists", campaign.uuid),
            "osdi:items": api_href("lists", campaign.uuid, "items"),
        },
    }


def item_resource(campaign, subscription, supporter):
    return {
        "identifiers": [ID_PREFIX + supporter.uuid],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": iso(subscription.created_at),
        "modified_date": iso(subscription.updated_at),
        "item_type": "osdi:person",
        "_links": {
            "self": api_href("lists", campaign.uuid, "items", supporter.uuid),
            "osdi:list": api_href("lists", campaign.uuid),
            "osdi:person": api_href("people", supporter.uuid),
        },
    }
