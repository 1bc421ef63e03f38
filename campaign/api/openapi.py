"""The OpenAPI 3.1 description of ``/api/v2``, built from plain dicts.

One document serves three readers: ``/api/v2/openapi.json`` for tools, the
``/api/docs`` page (rendered from it, so the two cannot drift apart) and the
schema tests, which check that every route of the ``api`` blueprint is in it and
that live answers match it. Shapes come from :mod:`campaign.api.resources`,
bodies from :mod:`campaign.api.inputs` and :mod:`campaign.api.services`.
Every block is written once, in ``components``, and referred to by ``$ref``.
"""

from flask import current_app

from campaign.api.http import HAL_JSON, MAX_PAGE, MAX_PER_PAGE
from campaign.api.inputs import EMAIL_MAX, MAX_TAGS, POSTAL_CODE_MAX, TEXT_MAX, TITLE_MAX
from campaign.api.resources import ATTENDANCE_STATUSES, EVENT_STATUSES
from campaign.api.views import TOKEN_HEADER
from campaign.events.models import EventKind
from campaign.petitions.models import PetitionStatus
from campaign.signatures.forms import COMMENT_MAX, NAME_MAX
from campaign.tags.models import TAG_NAME_MAX

JSON = "application/json"
MAX_GUESTS = 20
# The helpers' sections on /api/docs, and the OSDI rels the curies point at.
HELPERS = ("person_signup_helper", "record_signature_helper", "record_attendance_helper")


def ref(name, kind="schemas"):
    return {"$ref": f"#/components/{kind}/{name}"}


def _nullable(kind, description, **extra):
    return {"type": [kind, "null"], "description": description, **extra}


def _string(description, **extra):
    return {"type": "string", "description": description, **extra}


def _integer(description, **extra):
    return {"type": "integer", "description": description, **extra}


def _array(items, description, **extra):
    return {"type": "array", "items": items, "description": description, **extra}


def _object(properties, description="", required=()):
    schema = {"type": "object", "properties": properties}
    if description:
        schema["description"] = description
    if required:
        schema["required"] = list(required)
    return schema


def _links(*rels):
    """A resource's ``_links``: each rel an absolute link."""
    return _object({rel: ref("Link") for rel in rels}, required=rels)


def _resource(description, properties, links, *, common="Resource"):
    """A resource: the fields every record has (``common``), then its own."""
    return {"description": description, "allOf": [ref(common), _object(
        {**properties, "_links": _links("self", *links)}, required=(*properties, "_links"))]}


# --- Shared pieces ---------------------------------------------------------------------------

DATE_TIME = ref("DateTime")

BASICS = {
    "DateTime": _string("A moment in UTC, to the second, such as 2026-07-27T18:00:00Z.",
                        format="date-time"),
    "Error": _object({
        "error": _string("What went wrong, in words for people (in the language of the "
                         "request's Accept-Language header)."),
        "field": _string("The body's field, or the query parameter, at fault, as a dotted path "
                         "such as person.email_addresses.address. Absent when no one field is."),
    }, "A refusal. The status code says what kind; error says why.", required=("error",)),
    "Link": _object({"href": _string("An absolute address.", format="uri"),
                     "title": _string("What the link leads to.")},
                    "A HAL link.", required=("href",)),
    "Curie": _object({
        "name": _string("The prefix, osdi.", const="osdi"),
        "href": _string("Where each rel is described: this page's section named after it."),
        "templated": {"type": "boolean", "const": True},
    }, "Where the osdi: link relations are documented.", required=("name", "href", "templated")),
    "Resource": _object({
        "identifiers": _array(_string("placard: followed by the record's uuid.",
                                      pattern="^placard:"),
                              "The record's identifiers: one, placard:<uuid>. The uuid is the "
                              "last part of the record's address.", minItems=1),
        "origin_system": _string("Always Placard.", const="Placard"),
        "created_date": DATE_TIME,
        "modified_date": DATE_TIME,
        "_links": _object({}, "Links to this record (self) and its neighbours.",
                          required=("self",)),
    }, "What every record has.", required=("identifiers", "origin_system", "created_date",
                                            "modified_date", "_links")),
    "Notice": _object({"notice": _string("What was done.")}, "The answer to a deletion.",
                      required=("notice",)),
}


# --- Records, as the API shows them -----------------------------------------------------------

RECORDS = {
    "EmailAddress": _object({
        "primary": {"type": "boolean", "description": "Always true: a person has one address."},
        "address": _string("The email address.", format="email"),
        "status": _string("subscribed when the person is on the mailing list of one of the "
                          "token's campaigns, else unsubscribed.",
                          enum=["subscribed", "unsubscribed"]),
    }, "An email address.", required=("primary", "address", "status")),
    "PostalAddress": _object({
        "primary": {"type": "boolean"},
        "postal_code": _string("The postal code, in capitals; empty when not known."),
        "country": _string("The country as a two-letter code such as CA; empty when not known."),
    }, "A postal address (only its postal code and country are kept).",
        required=("primary", "postal_code", "country")),
    "Person": _resource(
        "A person in the token's campaigns: someone who signed one of their petitions, answered "
        "one of their events, is or was on one of their mailing lists, or carries one of their "
        "tags. Names, postal address and language are what those campaigns know of them; "
        "created_date is when those campaigns first heard of them and modified_date when "
        "anything those campaigns hold of them last changed.",
        {"given_name": _string("Their given name; empty when not known."),
         "family_name": _string("Their family name; empty when not known."),
         "email_addresses": _array(ref("EmailAddress"), "Exactly one address.",
                                   minItems=1, maxItems=1),
         "postal_addresses": _array(ref("PostalAddress"), "Exactly one address.",
                                    minItems=1, maxItems=1),
         "languages_spoken": _array(_string("A locale: en or fr_CA."),
                                    "The language they use with Placard, if known.", maxItems=1)},
        ("osdi:signatures", "osdi:attendances", "osdi:taggings")),
    "Petition": _resource(
        "A petition of one of the token's campaigns.",
        {"title": _string("The petition's title."),
         "description": _string("The petition's text as HTML (rendered from its Markdown)."),
         "petition_text": _string("The petition's text as written, in Markdown."),
         "target": _array(_object({"name": _string("Who the petition is addressed to.")},
                                  required=("name",)),
                          "Whom the petition addresses: one target.", minItems=1, maxItems=1),
         "total_signatures": _integer("Confirmed signatures.", minimum=0),
         "browser_url": _string("The petition's public page.", format="uri"),
         "placard:status": _string("Whether it takes signatures.",
                                   enum=[str(status) for status in PetitionStatus]),
         "placard:goal": _integer("The number of signatures aimed for.", minimum=0),
         "placard:deadline": _nullable("string", "When it closes by itself, if it does.",
                                       format="date-time")},
        ("osdi:signatures", "osdi:record_signature_helper", "placard:list")),
    "Signature": _resource(
        "A signature of a petition: confirmed (counted) or pending (waiting for its email link). "
        "Signatures the organizers set aside are not shown.",
        {"comments": _string("The signer's comment; empty when none."),
         "placard:status": _string("confirmed: counted; pending: waiting for the signer to "
                                   "follow the link emailed to them.",
                                   enum=["pending", "confirmed"]),
         "placard:confirmed_date": _nullable("string", "When it was confirmed.",
                                             format="date-time"),
         "placard:source": _string("Where it came from: empty for the public sign form, "
                                   "api: <token name> through the API, and so on."),
         "referrer_data": _object({
             "source": _string("The utm_source of the page that was signed; may be empty."),
             "website": _string("The host the signer came from; may be empty."),
         }, "Where the signer came from.", required=("source", "website"))},
        ("osdi:petition", "osdi:person")),
    "Location": _object({
        "venue": _string("The venue's name; may be empty."),
        "address_lines": _array({"type": "string"}, "The street address, line by line."),
        "locality": _string("The city; may be empty."),
    }, "Where an event takes place.", required=("venue", "address_lines", "locality")),
    "Event": _resource(
        "An event of one of the token's campaigns.",
        {"title": _string("The event's title."),
         "description": _string("The event's description as HTML (rendered from its Markdown)."),
         "browser_url": _string("The event's public page.", format="uri"),
         "status": _string("confirmed: published; tentative: a draft, not yet public; "
                           "cancelled.", enum=sorted(set(EVENT_STATUSES.values()))),
         "start_date": DATE_TIME,
         "end_date": DATE_TIME,
         "capacity": _nullable("integer", "How many places there are; null for no limit.",
                               minimum=1),
         "total_accepted": _integer("People (with their guests) who have a place.", minimum=0),
         "location": ref("Location"),
         "placard:kind": _string("What kind of event it is.",
                                 enum=[str(kind) for kind in EventKind]),
         "placard:timezone": _string("The event's time zone, such as America/Toronto.")},
        ("osdi:attendances", "osdi:record_attendance_helper", "placard:list")),
    "Attendance": _resource(
        "Someone's RSVP to an event.",
        {"status": _string("accepted: has a place; tentative: on the waiting list; needs "
                           "action: waiting for the emailed link to be followed; declined: "
                           "cancelled.", enum=sorted(set(ATTENDANCE_STATUSES.values()))),
         "placard:guests": _integer("How many guests they bring.", minimum=0)},
        ("osdi:event", "osdi:person")),
    "Tag": _resource("A tag of one of the token's campaigns.",
                     {"name": _string("The tag's name, unique within its campaign.")},
                     ("osdi:taggings", "placard:list")),
    "Tagging": _resource("A tag on a person.",
                         {"item_type": _string("What is tagged: always a person.",
                                               const="osdi:person")},
                         ("osdi:tag", "osdi:person")),
    "List": _resource(
        "A campaign's mailing list: everyone who agreed to hear from it and has not left. The "
        "list's identifier is also the campaign's, as placard:campaign takes it.",
        {"name": _string("The campaign's title."),
         "title": _string("The campaign's title."),
         "description": _string("The campaign's summary; may be empty."),
         "browser_url": _string("The campaign's public page.", format="uri"),
         "total_items": _integer("People on the list.", minimum=0)},
        ("osdi:items",)),
    "Item": _resource(
        "A person on a mailing list. Its identifier is the person's; its dates are those of "
        "their subscription.",
        {"item_type": _string("What is on the list: always a person.", const="osdi:person")},
        ("osdi:list", "osdi:person")),
    "EntryPoint": _object({
        "motd": _string("A greeting."),
        "vendor_name": _string("Placard.", const="Placard"),
        "product_name": _string("Placard.", const="Placard"),
        "osdi_version": _string("The OSDI version followed."),
        "namespace": _string("The prefix of Placard's own fields and identifiers.",
                             const="placard"),
        "max_pagesize": _integer("The largest per_page.", const=MAX_PER_PAGE),
        "_links": _object({
            "self": ref("Link"), "curies": _array(ref("Curie"), ""),
            **{f"osdi:{name}": ref("Link") for name in ("people", "petitions", "events", "tags",
                                                        "lists", "person_signup_helper")},
            "docs": ref("Link"),
        }, "The collections, and the person signup helper.", required=("self", "curies")),
    }, "The API's entry point: where everything is.", required=(
        "motd", "vendor_name", "product_name", "osdi_version", "max_pagesize", "_links")),
}

# The webhooks' records: the signature or attendance with the person inline.
WEBHOOK_RECORDS = {
    f"{name}WithPerson": {"description": f"A {name.lower()} with its person inline, as "
                                         "webhooks send it.",
                          "allOf": [ref(name), _object({"person": ref("Person")},
                                                       required=("person",))]}
    for name in ("Signature", "Attendance")
}


# --- Collections ------------------------------------------------------------------------------

COLLECTIONS = {
    "people": "Person", "petitions": "Petition", "signatures": "Signature", "events": "Event",
    "attendances": "Attendance", "tags": "Tag", "taggings": "Tagging", "lists": "List",
    "items": "Item",
}

COLLECTION_BASE = _object({
    "total_pages": _integer("How many pages there are at this per_page.", minimum=0),
    "per_page": _integer("Records per page.", minimum=1, maximum=MAX_PER_PAGE),
    "page": _integer("This page's number, from 1.", minimum=1),
    "total_records": _integer("How many records match, on every page.", minimum=0),
    "_links": _object({
        "self": ref("Link"),
        "next": {**ref("Link"), "description": "The next page, if there is one."},
        "previous": {**ref("Link"), "description": "The previous page, after the first."},
        "curies": _array(ref("Curie"), ""),
    }, required=("self", "curies")),
    "_embedded": _object({}, "The page's records, under their one osdi: key."),
}, "A page of records, in a stable order (oldest first). A page past the end is empty, "
   "not an error.", required=("total_pages", "per_page", "page", "total_records", "_links",
                              "_embedded"))


def _collection_schema(name, record):
    key = f"osdi:{name}"
    return {"description": f"A page of {name}.", "allOf": [ref("Collection"), _object({
        "_links": _object({key: _array(ref("Link"), "The page's records' addresses.")},
                          required=(key,)),
        "_embedded": _object({key: _array(ref(record), f"The page's {name}.")}, required=(key,)),
    })]}


def collection_name(name):
    return name.capitalize() + "Collection"


# --- Request bodies ---------------------------------------------------------------------------

CAMPAIGN_FIELD = {"placard:campaign": _string(
    "The campaign to act in: the identifier of its list, placard:<uuid>. Needed when the "
    "token covers several campaigns; a token of one campaign acts in it.")}

BODIES = {
    "EmailAddressInput": _object({
        "address": _string("Their email address.", format="email", maxLength=EMAIL_MAX),
        "primary": {"type": "boolean", "description": "Marks the address to use when several "
                                                      "are given."},
        "status": _string("subscribed adds them to the campaign's mailing list (as consent the "
                          "token vouches for); unsubscribed takes them off.",
                          enum=["subscribed", "unsubscribed"]),
    }, "An email address.", required=("address",)),
    "PostalAddressInput": _object({
        "postal_code": _string("Letters, digits, spaces and hyphens.", maxLength=POSTAL_CODE_MAX),
        "country": _string("A two-letter country code such as CA.", maxLength=2),
        "primary": {"type": "boolean", "description": "Marks the address to use when several "
                                                      "are given."},
    }, "A postal address: only its postal code and country are kept."),
    "PersonFields": _object({
        "given_name": _string("Their given name.", maxLength=NAME_MAX),
        "family_name": _string("Their family name.", maxLength=NAME_MAX),
        "email_addresses": _array(ref("EmailAddressInput"), "Their email address: the primary "
                                  "one (else the first) is used.", minItems=1),
        "postal_addresses": _array(ref("PostalAddressInput"), "Their postal address: the "
                                   "primary one (else the first) is used."),
        "languages_spoken": _array({"type": "string"}, "Their languages: the first of en, fr "
                                                       "or fr-CA found is the one used."),
    }, "What the API takes of a person."),
    "PersonInput": {"description": "A person, as the helpers take them. Only the email address "
                                   "is always required; each helper says what else it needs.",
                    "allOf": [ref("PersonFields"), {"required": ["email_addresses"]}]},
    "Triggers": _object({"autoresponse": _object({"enabled": {
        "type": "boolean", "default": False,
        "description": "true: email the person to confirm, and count them once they do. "
                       "false (the default): the token vouches for them; they count at once "
                       "and get no email."}})},
        "What the helper sets off."),
    "AddTags": _array(_string("A tag's name.", minLength=1, maxLength=TAG_NAME_MAX),
                      "Tags to put on the person in the campaign (made if new).",
                      maxItems=MAX_TAGS),
    "PersonSignupHelper": _object({
        "person": ref("PersonInput"), "add_tags": ref("AddTags"), **CAMPAIGN_FIELD,
    }, "Finds the person by email address (adding them if new), records what the body says "
       "of them for the campaign, and puts them on its mailing list unless the address's status "
       "is unsubscribed. Someone who left the list themselves is never put back.",
        required=("person",)),
    "PersonUpdate": {
        "description": "What to change of a person in the token's campaigns. Fields left out stay "
                       "as they are. The email address cannot be changed: send it only to change "
                       "its status (subscribed puts them on the list of the campaign named by "
                       "placard:campaign).",
        "allOf": [ref("PersonFields"), _object(CAMPAIGN_FIELD)]},
    "RecordSignatureHelper": _object({
        "person": ref("PersonInput"),
        "comments": _string("The signer's comment; required when the petition asks for one.",
                            maxLength=COMMENT_MAX),
        "add_tags": ref("AddTags"),
        "triggers": ref("Triggers"),
    }, "Signs the petition for the person, through the same checks as the sign form: the "
       "person needs a given name, a family name and a country (and a postal code when the "
       "petition asks for it). Signing twice records one signature.", required=("person",)),
    "RecordAttendanceHelper": _object({
        "person": ref("PersonInput"),
        "placard:guests": _integer("How many guests they bring.", minimum=0, maximum=MAX_GUESTS,
                                   default=0),
        "add_tags": ref("AddTags"),
        "triggers": ref("Triggers"),
    }, "RSVPs to the event for the person. Vouched for, they take a place (or a spot on the "
       "waiting list) at once; answering again changes nothing.", required=("person",)),
    "PetitionInput": _object({
        "title": _string("The title.", maxLength=TITLE_MAX),
        "target": _array(_object({"name": _string("Whom it addresses.", maxLength=TITLE_MAX)},
                                 required=("name",)), "Whom it addresses: the first is used.",
                         minItems=1),
        "petition_text": _string("The text, in Markdown.", maxLength=TEXT_MAX),
        "description": _string("The text, when petition_text is not given.", maxLength=TEXT_MAX),
        "placard:status": _string("Whether it takes signatures; open when made.",
                                  enum=[str(status) for status in PetitionStatus]),
        "placard:goal": _integer("The number of signatures aimed for; 1000 when made.",
                                 minimum=1, maximum=10_000_000),
        "placard:deadline": _nullable("string", "When it closes by itself; null for never.",
                                      format="date-time"),
        **CAMPAIGN_FIELD,
    }, "A petition's fields. Making one needs title and target; changing one, only what "
       "changes."),
    "EventInput": _object({
        "title": _string("The title.", maxLength=TITLE_MAX),
        "start_date": _string("When it starts.", format="date-time"),
        "end_date": _string("When it ends: after start_date.", format="date-time"),
        "description": _string("The description, in Markdown.", maxLength=TEXT_MAX),
        "location": _object({
            "venue": _string("The venue's name.", maxLength=200),
            "address_lines": _array({"type": "string"}, "The street address, line by line."),
            "locality": _string("The city.", maxLength=100),
        }, "Where it takes place; when given, it replaces the whole location."),
        "capacity": _nullable("integer", "How many places there are; null for no limit.",
                              minimum=1, maximum=1_000_000),
        "status": _string("confirmed publishes it; tentative keeps it a draft (the default). "
                          "An event is cancelled on its organizer's page, where attendees are "
                          "told.", enum=["confirmed", "tentative"]),
        "placard:kind": _string("What kind of event; meeting when made.",
                                enum=[str(kind) for kind in EventKind]),
        "placard:timezone": _string("Its time zone, such as America/Toronto; UTC when made."),
        **CAMPAIGN_FIELD,
    }, "An event's fields. Making one needs title, start_date and end_date; changing one, "
       "only what changes."),
    "TagInput": _object({"name": _string("The tag's name.", minLength=1, maxLength=TAG_NAME_MAX),
                         **CAMPAIGN_FIELD},
                        "A tag to make. A tag of that name already in the campaign is returned "
                        "as it is.", required=("name",)),
    "TaggingInput": _object({
        "_links": _object({"osdi:person": ref("Link")},
                          "The person to tag, by the address of their record.",
                          required=("osdi:person",)),
        "person": _object({
            "identifiers": _array({"type": "string"}, "Their identifier, placard:<uuid>."),
            "email_addresses": _array(_object({"address": {"type": "string"}}),
                                      "Their email address."),
        }, "The person to tag, by identifier or email address, when _links is not given."),
    }, "Whom to tag. The person must be in the token's campaigns."),
}


# --- Parameters and responses -----------------------------------------------------------------

ID_NAMES = {"person_id": "person", "petition_id": "petition", "signature_id": "signature",
            "event_id": "event", "attendance_id": "attendance", "tag_id": "tag",
            "tagging_id": "tagging", "list_id": "list", "item_id": "person on the list"}


def _id_parameter(name, noun):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
            "description": f"The {noun}'s uuid, as in its identifier placard:<uuid> (the "
                           "prefixed form is read too). Anything else, or a record the token "
                           "may not see, is a 404."}


PARAMETERS = {
    **{name: _id_parameter(name, noun) for name, noun in ID_NAMES.items()},
    "page": {"name": "page", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "default": 1},
             "description": f"The page, from 1. Past the last page, the page is empty. Numbers "
                            f"above {MAX_PAGE:,} read as {MAX_PAGE:,}."},
    "per_page": {"name": "per_page", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "default": MAX_PER_PAGE},
                 "description": f"Records per page: at most {MAX_PER_PAGE} (a larger number "
                                f"reads as {MAX_PER_PAGE})."},
    "filter": {"name": "filter", "in": "query", "required": False, "schema": {"type": "string"},
               "example": "modified_date gt '2026-07-27'",
               "description": "Only the records whose modified_date or created_date compares "
                              "so: field, operator (gt, ge, lt, le or eq) and a date or time in "
                              "quotes (2026-07-27 or 2026-07-27T18:00:00Z, UTC when no offset "
                              "is given), several joined with and. A date stands for its whole "
                              "day."},
}


def _error(description, headers=None):
    response = {"description": description, "content": {JSON: {"schema": ref("Error")}}}
    if headers:
        response["headers"] = headers
    return response


ERRORS = {
    "400": ("BadRequest", _error("The request is refused as it is: the body or a query parameter "
                                 "is malformed or breaks a rule; field names it. Nothing is "
                                 "changed.")),
    "401": ("Unauthorized", _error(
        f"No valid token in the {TOKEN_HEADER} header (missing, revoked, or its owner can no "
        "longer use it).",
        headers={"WWW-Authenticate": {"description": f"Always {TOKEN_HEADER} realm=\"Placard API\".",
                                      "required": True, "schema": {"type": "string"}}})),
    "404": ("NotFound", _error("No such record, or not one this token may see (the two are not "
                               "told apart), or no such path.")),
    "405": ("MethodNotAllowed", _error("The path exists, but not with this method.")),
    "409": ("Conflict", _error("The record's state forbids it: a closed petition or event, a "
                               "signature the organizers set aside, a cancelled event.")),
    "413": ("PayloadTooLarge", _error("The body is too large.")),
    "429": ("TooManyRequests", _error(
        "Too many requests for this token: wait as many seconds as Retry-After says.",
        headers={"Retry-After": {"description": "Seconds to wait before trying again.",
                                 "schema": {"type": "integer", "minimum": 1}}})),
}


def _ok(schema, description):
    return {"description": description, "content": {HAL_JSON: {"schema": ref(schema)}}}


# --- Operations -------------------------------------------------------------------------------

def _operation(operation_id, tag, summary, description, ok, *, ok_description="",
               body=None, errors=(), collection=False):
    parameters = [ref(name, "parameters") for name in ("page", "per_page", "filter")] \
        if collection else []
    statuses = sorted({"401", "429", *errors, *(("400",) if collection or body else ()),
                       *(("413",) if body else ())})
    operation = {
        "operationId": operation_id, "tags": [tag], "summary": summary,
        "description": description,
        "responses": {"200": _ok(ok, ok_description or summary),
                      **{status: ref(ERRORS[status][0], "responses") for status in statuses}},
    }
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {"required": True,
                                    "content": {JSON: {"schema": ref(body)}}}
    return operation


def _read_collection(operation_id, tag, name, summary, description, errors=()):
    return _operation(operation_id, tag, summary, description, collection_name(name),
                      collection=True, errors=errors)


NOT_FOUND = ("404",)
CONFLICT = ("404", "409")

# (path, its id parameters, {method: operation}), in the order of the documentation.
ROUTES = [
    ("/", (), {"get": _operation(
        "entryPoint", "entry_point", "The entry point",
        "Links to every collection and to the person signup helper.", "EntryPoint")}),
    ("/people", (), {
        "get": _read_collection("listPeople", "people", "people", "List people",
                                "The people in the token's campaigns."),
        "post": _operation(
            "personSignup", "person_signup_helper", "Person signup helper",
            "Adds or updates a person by email address and puts them on the campaign's list.",
            "Person", body="PersonSignupHelper", errors=NOT_FOUND,
            ok_description="The person, as they now are.")}),
    ("/people/{person_id}", ("person_id",), {
        "get": _operation("getPerson", "people", "Get a person", "One person.", "Person",
                          errors=NOT_FOUND),
        "put": _operation("updatePerson", "people", "Update a person",
                          "Changes a person's names, postal address, language or email status "
                          "as the token's campaigns know them.", "Person", body="PersonUpdate",
                          errors=NOT_FOUND)}),
    ("/people/{person_id}/signatures", ("person_id",), {"get": _read_collection(
        "listPersonSignatures", "signatures", "signatures", "List a person's signatures",
        "The person's signatures of the token's petitions.", NOT_FOUND)}),
    ("/people/{person_id}/attendances", ("person_id",), {"get": _read_collection(
        "listPersonAttendances", "attendances", "attendances", "List a person's attendances",
        "The person's RSVPs to the token's events.", NOT_FOUND)}),
    ("/people/{person_id}/taggings", ("person_id",), {"get": _read_collection(
        "listPersonTaggings", "taggings", "taggings", "List a person's taggings",
        "The token's tags on the person.", NOT_FOUND)}),
    ("/petitions", (), {
        "get": _read_collection("listPetitions", "petitions", "petitions", "List petitions",
                                "The petitions of the token's campaigns."),
        "post": _operation("createPetition", "petitions", "Create a petition",
                           "Makes a petition, open unless told otherwise.", "Petition",
                           body="PetitionInput", errors=NOT_FOUND)}),
    ("/petitions/{petition_id}", ("petition_id",), {
        "get": _operation("getPetition", "petitions", "Get a petition", "One petition.",
                          "Petition", errors=NOT_FOUND),
        "put": _operation("updatePetition", "petitions", "Update a petition",
                          "Changes what the body gives; the rest stays.", "Petition",
                          body="PetitionInput", errors=NOT_FOUND)}),
    ("/petitions/{petition_id}/signatures", ("petition_id",), {
        "get": _read_collection("listSignatures", "signatures", "signatures",
                                "List a petition's signatures",
                                "Its confirmed and pending signatures.", NOT_FOUND),
        "post": _operation("recordSignature", "record_signature_helper",
                           "Record signature helper",
                           "Signs the petition for a person (see the autoresponse rule).",
                           "Signature", body="RecordSignatureHelper", errors=CONFLICT,
                           ok_description="The signature: confirmed when vouched for, else "
                                          "pending.")}),
    ("/petitions/{petition_id}/signatures/{signature_id}", ("petition_id", "signature_id"), {
        "get": _operation("getSignature", "signatures", "Get a signature", "One signature.",
                          "Signature", errors=NOT_FOUND)}),
    ("/events", (), {
        "get": _read_collection("listEvents", "events", "events", "List events",
                                "The events of the token's campaigns."),
        "post": _operation("createEvent", "events", "Create an event",
                           "Makes an event, a draft unless its status is confirmed.", "Event",
                           body="EventInput", errors=NOT_FOUND)}),
    ("/events/{event_id}", ("event_id",), {
        "get": _operation("getEvent", "events", "Get an event", "One event.", "Event",
                          errors=NOT_FOUND),
        "put": _operation("updateEvent", "events", "Update an event",
                          "Changes what the body gives; the rest stays. A larger capacity "
                          "gives places to the waiting list.", "Event", body="EventInput",
                          errors=CONFLICT)}),
    ("/events/{event_id}/attendances", ("event_id",), {
        "get": _read_collection("listAttendances", "attendances", "attendances",
                                "List an event's attendances", "Its RSVPs, in every status.",
                                NOT_FOUND),
        "post": _operation("recordAttendance", "record_attendance_helper",
                           "Record attendance helper",
                           "RSVPs to the event for a person (see the autoresponse rule).",
                           "Attendance", body="RecordAttendanceHelper", errors=CONFLICT,
                           ok_description="The attendance: accepted or tentative when vouched "
                                          "for, else needs action.")}),
    ("/events/{event_id}/attendances/{attendance_id}", ("event_id", "attendance_id"), {
        "get": _operation("getAttendance", "attendances", "Get an attendance", "One RSVP.",
                          "Attendance", errors=NOT_FOUND)}),
    ("/tags", (), {
        "get": _read_collection("listTags", "tags", "tags", "List tags",
                                "The tags of the token's campaigns."),
        "post": _operation("createTag", "tags", "Create a tag",
                           "Makes a tag, or returns the campaign's tag of that name.", "Tag",
                           body="TagInput", errors=NOT_FOUND)}),
    ("/tags/{tag_id}", ("tag_id",), {
        "get": _operation("getTag", "tags", "Get a tag", "One tag.", "Tag", errors=NOT_FOUND)}),
    ("/tags/{tag_id}/taggings", ("tag_id",), {
        "get": _read_collection("listTaggings", "taggings", "taggings", "List a tag's taggings",
                                "The people carrying the tag, as taggings.", NOT_FOUND),
        "post": _operation("addTagging", "taggings", "Tag a person",
                           "Puts the tag on a person; tagging twice makes one tagging.",
                           "Tagging", body="TaggingInput", errors=NOT_FOUND)}),
    ("/tags/{tag_id}/taggings/{tagging_id}", ("tag_id", "tagging_id"), {
        "get": _operation("getTagging", "taggings", "Get a tagging", "One tagging.", "Tagging",
                          errors=NOT_FOUND),
        "delete": _operation("deleteTagging", "taggings", "Delete a tagging",
                             "Takes the tag off the person.", "Notice", errors=NOT_FOUND)}),
    ("/lists", (), {"get": _read_collection(
        "listLists", "lists", "lists", "List mailing lists",
        "The mailing lists of the token's campaigns (one per campaign). Lists are read only.")}),
    ("/lists/{list_id}", ("list_id",), {
        "get": _operation("getList", "lists", "Get a mailing list", "One campaign's list.",
                          "List", errors=NOT_FOUND)}),
    ("/lists/{list_id}/items", ("list_id",), {"get": _read_collection(
        "listItems", "items", "items", "List a mailing list's people",
        "The people subscribed to the list.", NOT_FOUND)}),
    ("/lists/{list_id}/items/{item_id}", ("list_id", "item_id"), {
        "get": _operation("getItem", "items", "Get a person on a list",
                          "One subscribed person, by the person's uuid.", "Item",
                          errors=NOT_FOUND)}),
]

# The sections of /api/docs, in order, each with the OSDI rel that names it.
TAGS = [
    ("entry_point", "Where a client starts."),
    ("people", "People in the token's campaigns."),
    ("person_signup_helper", "Add or update a person and put them on a mailing list."),
    ("petitions", "Petitions: read, make and change them."),
    ("signatures", "Signatures of petitions."),
    ("record_signature_helper", "Sign a petition for someone."),
    ("events", "Events: read, make and change them."),
    ("attendances", "RSVPs to events."),
    ("record_attendance_helper", "RSVP to an event for someone."),
    ("tags", "The campaigns' tags."),
    ("taggings", "Tags on people."),
    ("lists", "Campaigns' mailing lists (read only)."),
    ("items", "The people on a mailing list."),
]

WEBHOOK_DESCRIPTION = (
    "Each new confirmed {kind} in a campaign, POSTed to the campaign's webhook endpoints as a "
    "JSON array of one object. The request carries X-Placard-Timestamp (Unix seconds) and "
    "X-Placard-Signature: sha256= followed by the hex HMAC-SHA256, keyed with the endpoint's "
    "secret, of the timestamp, a dot and the raw body. Answer with a 2xx status; anything else "
    "is retried later.")


def _webhook(kind, schema):
    key = f"osdi:{kind}"
    return {"post": {
        "operationId": f"{kind}Webhook", "summary": f"A new {kind}",
        "description": WEBHOOK_DESCRIPTION.format(kind=kind),
        "parameters": [
            {"name": "X-Placard-Timestamp", "in": "header", "required": True,
             "schema": {"type": "string"}, "description": "When it was sent, in Unix seconds."},
            {"name": "X-Placard-Signature", "in": "header", "required": True,
             "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
             "description": "sha256= and the hex HMAC-SHA256 of {timestamp}.{body}."},
        ],
        "requestBody": {"required": True, "content": {JSON: {"schema": _array(
            _object({key: ref(schema)}, required=(key,)), "", minItems=1, maxItems=1)}}},
        "responses": {"200": {"description": "Received (any 2xx will do)."}},
    }}


def openapi_document():
    """The OpenAPI 3.1 description of ``/api/v2``, with this site's address as its server."""
    public_url = current_app.config["PUBLIC_URL"].rstrip("/")
    paths = {}
    for path, ids, operations in ROUTES:
        item = dict(operations)
        if ids:
            item["parameters"] = [ref(name, "parameters") for name in ids]
        paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Placard API",
            "version": "2",
            "summary": "Action Network's v2 API (OSDI), for Placard's campaigns.",
            "description": (
                "Read and add people, petitions, signatures, events, RSVPs, tags and mailing "
                "lists of the campaigns a token covers. Resources are HAL JSON with "
                f"OSDI field names; what OSDI has no field for is prefixed placard:. The full "
                f"guide is at {public_url}/api/docs."),
        },
        "servers": [{"url": f"{public_url}/api/v2", "description": "This Placard site."}],
        "security": [{"token": []}],
        "tags": [{"name": name, "description": description} for name, description in TAGS],
        "paths": paths,
        "webhooks": {"signature": _webhook("signature", "SignatureWithPerson"),
                     "attendance": _webhook("attendance", "AttendanceWithPerson")},
        "components": {
            "securitySchemes": {"token": {
                "type": "apiKey", "in": "header", "name": TOKEN_HEADER,
                "description": "An API token, made at /organize/api-tokens. It acts as the "
                               "organizer who made it, in the campaigns it was made for."}},
            "parameters": PARAMETERS,
            "responses": dict(ERRORS.values()),
            "schemas": {
                **BASICS, **RECORDS, **WEBHOOK_RECORDS, "Collection": COLLECTION_BASE,
                **{collection_name(name): _collection_schema(name, record)
                   for name, record in COLLECTIONS.items()},
                **BODIES,
            },
        },
    }
