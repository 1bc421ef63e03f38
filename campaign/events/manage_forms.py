"""The organizers' event form: shape only. Access and status rules are the services'."""

from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Optional, ValidationError

from campaign.campaigns.forms import (
    keep_under,
    markdown_field,
    no_control_characters,
    slug_field,
    title_field,
)
from campaign.events.display import kind_label
from campaign.events.models import EventKind, EventStatus
from campaign.petitions.forms import (
    ClockField,
    DayField,
    WholeNumberField,
    _timezone_choices,
    timezone_names,
)
from campaign.text import clean_line, clean_paragraphs

VENUE_MAX = 200
ADDRESS_MAX = 1000
CITY_MAX = 100
URL_MAX = 500
NOTES_MAX = 2000
CONTACT_MAX = 300
CAPACITY_MAX = 1_000_000
# Dates outside these years are typing mistakes, and far ones overflow datetime in UTC.
YEAR_MIN, YEAR_MAX = 2000, 2100


def _line_field(label, maximum):
    return StringField(label, filters=[clean_line],
                       validators=[Optional(), keep_under(maximum), no_control_characters()])


def _paragraphs_field(label, maximum):
    return TextAreaField(label, filters=[clean_paragraphs],
                         validators=[Optional(), keep_under(maximum),
                                     no_control_characters(allow_newlines=True)])


def _reasonable_year(form, field):
    if field.data and not YEAR_MIN <= field.data.year <= YEAR_MAX:
        raise ValidationError(_l("Please choose a date between %(min)d and %(max)d.",
                                 min=YEAR_MIN, max=YEAR_MAX))


def _web_link(form, field):
    parts = urlsplit(field.data)
    # Only web links: "javascript:" and other schemes never reach an attendee.
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in field.data):
        raise ValidationError(_l("Please enter a web address starting with https:// (or http://)."))


def _capacity_in_range(form, field):
    # Not NumberRange: it would add its message to the "not a number" one.
    if field.data is not None and not 1 <= field.data <= CAPACITY_MAX:
        raise ValidationError(_l(
            "Please enter a number of people between %(min)d and %(max)d, or leave it empty for no limit.",
            min=1, max=CAPACITY_MAX))


class EventForm(FlaskForm):
    title = title_field(_l("Title"), _l("Please give the event a title."))
    slug = slug_field(_l("Web address"))
    kind = SelectField(_l("Kind of event"), default=EventKind.PICKET.value,
                       choices=[SelectChoice(kind.value, kind_label(kind)) for kind in EventKind])
    description = markdown_field(_l("Description"))
    timezone = SelectField(_l("Time zone"), default="UTC")
    start_date = DayField(_l("Date"), validators=[
        InputRequired(_l("Please choose the day of the event.")), _reasonable_year])
    start_time = ClockField(_l("Start time"), validators=[
        InputRequired(_l("Please give the time the event starts."))])
    end_date = DayField(_l("End date"), validators=[Optional(), _reasonable_year])
    end_time = ClockField(_l("End time"), validators=[
        InputRequired(_l("Please give the time the event ends."))])
    venue_name = _line_field(_l("Venue"), VENUE_MAX)
    address = _paragraphs_field(_l("Address"), ADDRESS_MAX)
    city = _line_field(_l("City"), CITY_MAX)
    online_url = StringField(_l("Online link"), filters=[clean_line],
                             validators=[Optional(), keep_under(URL_MAX), no_control_characters(), _web_link])
    capacity = WholeNumberField(_l("Capacity"), validators=[Optional(), _capacity_in_range])
    accessibility = _paragraphs_field(_l("Accessibility"), NOTES_MAX)
    contact = _line_field(_l("Contact on the day"), CONTACT_MAX)
    status = RadioField(
        _l("Visibility"), default=EventStatus.DRAFT.value,
        choices=[SelectChoice(EventStatus.DRAFT.value, _l("Draft: only organizers see it")),
                 SelectChoice(EventStatus.PUBLISHED.value,
                              _l("Published: listed and open for RSVPs"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = _timezone_choices()

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        # The place: checked once each field is known to be well formed.
        if self.kind.data == EventKind.ONLINE:
            if not self.online_url.data and not self.online_url.errors:
                self.online_url.errors.append(_l("An online event needs a link."))
                valid = False
        elif not (self.venue_name.data or self.address.data or self.online_url.data) \
                and not self.online_url.errors:
            self.venue_name.errors.append(
                _l("An in-person event needs a venue or an address; an online event needs a link."))
            valid = False
        return valid

    def validate_start_time(self, field):
        if field.data is not None and self._start_known():
            _check_exists(self._local(self.start_date.data, field.data))

    def validate_end_time(self, field):
        if field.data is None or self.start_time.data is None or self.end_date.errors \
                or not self._start_known():
            return
        end = self._local(self._end_day(), field.data)
        _check_exists(end)
        if end.astimezone(UTC) <= self._local(self.start_date.data, self.start_time.data).astimezone(UTC):
            raise ValidationError(_l("The event must end after it starts. If it ends after midnight, "
                                     "give its end date as well."))

    def _start_known(self):
        return (self.timezone.data in timezone_names() and self.start_date.data is not None
                and not self.start_date.errors)

    def _end_day(self):
        return self.end_date.data or self.start_date.data

    def _local(self, day, clock):
        # fold=0: a time the clocks repeat when they go back is its first occurrence.
        return datetime.combine(day, clock, tzinfo=ZoneInfo(self.timezone.data))

    def times(self):
        """The start and the end typed, as aware UTC datetimes (call after validating)."""
        return (self._local(self.start_date.data, self.start_time.data).astimezone(UTC),
                self._local(self._end_day(), self.end_time.data).astimezone(UTC))

    def show_event_times(self, event):
        """Fill the date and time fields with ``event``'s, as seen in its own zone."""
        zone = ZoneInfo(event.timezone)
        start = event.starts_at.astimezone(zone)
        end = event.ends_at.astimezone(zone)
        self.timezone.data = event.timezone
        self.start_date.data = start.date()
        self.start_time.data = start.time().replace(second=0, microsecond=0)
        self.end_date.data = end.date() if end.date() != start.date() else None
        self.end_time.data = end.time().replace(second=0, microsecond=0)


def _check_exists(local):
    # A time the clocks skip when they go forward does not exist there: the round
    # trip through UTC lands an hour away from it.
    if local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationError(_l("This time does not exist in that time zone (the clocks change then)."))


class CancelEventForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, cancel this event and tell the people who are coming."),
        validators=[DataRequired(_l("Please tick the box to confirm that the event is cancelled."))])


class CheckInForm(FlaskForm):
    """One tap on the check-in page; ``q`` keeps the list filtered as it was."""

    checked_in = HiddenField(validators=[AnyOf(["0", "1"])])
    q = HiddenField()
