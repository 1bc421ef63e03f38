"""Reading OSDI request bodies into the details the services take, checked as the web
forms check them, with the path of the field at fault in every refusal."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from campaign.api.http import ApiError, parse_moment
from campaign.events.models import EventKind, EventStatus
from campaign.i18n import country_choices
from campaign.signatures.forms import COMMENT_MAX, NAME_MAX
from campaign.tags.models import TAG_NAME_MAX
from campaign.text import clean_line, clean_paragraphs, has_control_characters

POSTAL_CODE_MAX = 16
EMAIL_MAX = 254
TITLE_MAX = 200
TEXT_MAX = 20_000
MAX_TAGS = 50
# Dates a petition deadline or an event may take: anything else is a typing slip.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999
_POSTAL_CODE = re.compile(r"^[0-9A-Z][0-9A-Z \-]*$")
LANGUAGES = {"en": "en", "fr": "fr_CA", "fr_ca": "fr_CA", "fr-ca": "fr_CA"}


def _object(body, key, *, required=False):
    value = body.get(key)
    if value is None:
        if required:
            raise ApiError(400, _("%(field)s is missing.", field=key), key)
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, _("%(field)s must be a JSON object.", field=key), key)
    return value


def _first(container, key, path):
    """The primary (else the first) entry of an OSDI array such as ``email_addresses``."""
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise ApiError(400, _("%(field)s must be an array of objects.", field=path), path)
    primary = [entry for entry in value if entry.get("primary")]
    return (primary or value or [{}])[0]


def text(container, key, path, *, maximum, required=False, paragraphs=False):
    value = container.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ApiError(400, _("%(field)s must be a string.", field=path), path)
    value = clean_paragraphs(value) if paragraphs else clean_line(value)
    if required and not value:
        raise ApiError(400, _("%(field)s is missing.", field=path), path)
    if len(value) > maximum:
        raise ApiError(400, _("%(field)s is longer than %(max)d characters.", field=path,
                              max=maximum), path)
    if has_control_characters(value, allow_newlines=paragraphs):
        raise ApiError(400, _("%(field)s contains invisible control characters.", field=path), path)
    return value


def boolean(container, key, path, default=False):
    value = container.get(key, default)
    if not isinstance(value, bool):
        raise ApiError(400, _("%(field)s must be true or false.", field=path), path)
    return value


def _country_codes():
    return {code for code, _name in country_choices("en")}


class PersonInput:
    """The ``person`` of a helper's body: who they are and what they agreed to."""

    def __init__(self, body, *, names_required, postal_code_required=False):
        person = _object(body, "person", required=True)
        self.given_name = text(person, "given_name", "person.given_name", maximum=NAME_MAX,
                               required=names_required)
        self.family_name = text(person, "family_name", "person.family_name", maximum=NAME_MAX,
                                required=names_required)
        email = _first(person, "email_addresses", "person.email_addresses")
        address = text(email, "address", "person.email_addresses.address", maximum=EMAIL_MAX,
                       required=True)
        try:
            self.email = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ApiError(400, _("This email address is not valid: %(reason)s", reason=str(error)),
                           "person.email_addresses.address") from None
        status = email.get("status")
        if status not in (None, "subscribed", "unsubscribed"):
            raise ApiError(400, _("The email status is subscribed or unsubscribed."),
                           "person.email_addresses.status")
        self.email_status = status
        postal = _first(person, "postal_addresses", "person.postal_addresses")
        self.postal_code = text(postal, "postal_code", "person.postal_addresses.postal_code",
                                maximum=POSTAL_CODE_MAX, required=postal_code_required).upper()
        if self.postal_code and not _POSTAL_CODE.match(self.postal_code):
            raise ApiError(400, _("A postal code has only letters, digits, spaces and hyphens."),
                           "person.postal_addresses.postal_code")
        self.country = text(postal, "country", "person.postal_addresses.country", maximum=2).upper()
        if self.country and self.country not in _country_codes():
            raise ApiError(400, _("The country is a two-letter code such as CA."),
                           "person.postal_addresses.country")
        languages = person.get("languages_spoken") or []
        if not isinstance(languages, list) or not all(isinstance(code, str) for code in languages):
            raise ApiError(400, _("%(field)s must be an array of strings.",
                                  field="person.languages_spoken"), "person.languages_spoken")
        known = [LANGUAGES[code.lower()] for code in languages if code.lower() in LANGUAGES]
        self.locale = known[0] if known else None


def tags_to_add(body):
    names = body.get("add_tags") or []
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ApiError(400, _("%(field)s must be an array of strings.", field="add_tags"), "add_tags")
    if len(names) > MAX_TAGS:
        raise ApiError(400, _("At most %(max)d tags at a time.", max=MAX_TAGS), "add_tags")
    cleaned = []
    for name in names:
        name = tag_name({"name": name}, "add_tags")
        if name not in cleaned:
            cleaned.append(name)
    return cleaned


def tag_name(container, path):
    return text(container, "name", path, maximum=TAG_NAME_MAX, required=True)


def comments(body):
    return text(body, "comments", "comments", maximum=COMMENT_MAX, paragraphs=True)


def autoresponse(body):
    """Whether the helper emails the person: ``triggers.autoresponse.enabled``, off unless
    asked for, as in Action Network's API. Off, the token vouches for the person."""
    triggers = _object(body, "triggers")
    response = triggers.get("autoresponse") or {}
    if not isinstance(response, dict):
        raise ApiError(400, _("%(field)s must be a JSON object.", field="triggers.autoresponse"),
                       "triggers.autoresponse")
    return boolean(response, "enabled", "triggers.autoresponse.enabled")


def moment(container, key, *, required):
    raw = container.get(key)
    if raw is None:
        if required:
            raise ApiError(400, _("%(field)s is missing.", field=key), key)
        return None
    value, span = parse_moment(raw) if isinstance(raw, str) else (None, None)
    if value is None or span.days or not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ApiError(400, _("%(field)s must be a date and time such as 2026-07-27T18:00:00Z.",
                              field=key), key)
    return value


def whole_number(container, key, *, minimum=0, maximum=10_000_000, default=None):
    value = container.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ApiError(400, _("%(field)s must be a whole number from %(min)d to %(max)d.",
                              field=key, min=minimum, max=maximum), key)
    return value


def target_name(body, default=""):
    targets = body.get("target")
    if targets is None:
        return default
    if (not isinstance(targets, list) or not targets or not isinstance(targets[0], dict)):
        raise ApiError(400, _("target must be an array of objects with a name."), "target")
    return text(targets[0], "name", "target.name", maximum=TITLE_MAX, required=True)


def timezone_name(body, default):
    name = body.get("placard:timezone", default)
    if not isinstance(name, str):
        raise ApiError(400, _("placard:timezone must be a time zone such as America/Toronto."),
                       "placard:timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
        raise ApiError(400, _("placard:timezone must be a time zone such as America/Toronto."),
                       "placard:timezone") from None
    return name


def event_kind(body, default):
    value = body.get("placard:kind", default)
    try:
        return EventKind(value)
    except ValueError:
        raise ApiError(400, _("placard:kind is one of: %(kinds)s.",
                              kinds=", ".join(kind.value for kind in EventKind)),
                       "placard:kind") from None


def event_status(body, default):
    """OSDI's event status (confirmed, tentative) as Placard's (published, draft); an event
    is cancelled on its organizer's page, where attendees are told."""
    value = body.get("status")
    if value is None:
        return default
    statuses = {"confirmed": EventStatus.PUBLISHED, "tentative": EventStatus.DRAFT}
    if not isinstance(value, str) or value not in statuses:
        raise ApiError(400, _("status is confirmed or tentative."), "status")
    return statuses[value]


def ends_after(starts_at: datetime, ends_at: datetime):
    if ends_at <= starts_at:
        raise ApiError(400, _("end_date must come after start_date."), "end_date")
