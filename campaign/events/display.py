"""How an event's kind and time read, in the visitor's (or recipient's) language.

An event's time is always shown in the event's own zone, with its UTC offset and
the zone's name, whatever the reader's zone: "18:00 (UTC−04:00, America/Toronto)"
is unambiguous to someone reading from Vancouver or Seoul.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from campaign.events.models import EventKind

KIND_LABELS = {
    EventKind.PICKET: _l("Picket"),
    EventKind.RALLY: _l("Rally"),
    EventKind.VIGIL: _l("Vigil"),
    EventKind.MARCH: _l("March"),
    EventKind.MEETING: _l("Meeting"),
    EventKind.ONLINE: _l("Online event"),
}


def kind_label(kind):
    return KIND_LABELS.get(kind, kind)


def _aware(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def utc_offset_label(moment):
    """"UTC−04:00" for a local time four hours behind UTC ("UTC" when there is no offset)."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "\u2212"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def event_when(starts_at, ends_at, zone_name, locale=None):
    """The event's date and times in its zone, for people: "Monday, July 27, 2026,
    6:00 PM – 8:00 PM (UTC−04:00, America/Toronto)". Takes datetimes or ISO strings."""
    locale = str(locale or get_locale())
    zone = ZoneInfo(zone_name)
    start = _aware(starts_at).astimezone(zone)
    end = _aware(ends_at).astimezone(zone)
    day = format_date(start, "full", locale=locale)
    start_time = format_time(start, "short", locale=locale)
    end_time = format_time(end, "short", locale=locale)
    if end.date() == start.date():
        span = f"{day}, {start_time} – {end_time}"
    else:
        span = f"{day}, {start_time} – {format_date(end, 'full', locale=locale)}, {end_time}"
    offsets = utc_offset_label(start)
    if utc_offset_label(end) != offsets:
        # The clocks change during the event.
        offsets = f"{offsets} / {utc_offset_label(end)}"
    return f"{span} ({offsets}, {zone_name})"


def event_when_short(starts_at, zone_name, locale=None):
    """The start only, shorter, for lists: "Mon, Jul 27, 2026, 6:00 PM (UTC−04:00)"."""
    locale = str(locale or get_locale())
    start = _aware(starts_at).astimezone(ZoneInfo(zone_name))
    return (f"{format_date(start, 'medium', locale=locale)}, "
            f"{format_time(start, 'short', locale=locale)} ({utc_offset_label(start)})")
