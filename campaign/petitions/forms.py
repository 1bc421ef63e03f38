"""The organizers' petition form: shape only."""

import functools
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from campaign.campaigns.forms import (
    keep_under,
    markdown_field,
    no_control_characters,
    slug_field,
    title_field,
)
from campaign.petitions.models import PetitionStatus
from campaign.text import clean_paragraphs

GOAL_MAX = 100_000_000
CONSENT_MAX = 500
# Without a time, a deadline is the end of its day.
END_OF_DAY = time(23, 59)
# Names zoneinfo lists that are no place anyone lives in.
_NOT_ZONES = {"Factory", "localtime", "posixrules"}


@functools.cache
def timezone_names():
    return tuple(sorted(available_timezones() - _NOT_ZONES))


@functools.cache
def _timezone_choices():
    return [SelectChoice(name) for name in timezone_names()]


class _OwnParseMessage:
    """A field whose "could not read this" message is ours, so it is translated."""

    parse_message = _l("Please check this value.")

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.parse_message) from None


class WholeNumberField(_OwnParseMessage, IntegerField):
    parse_message = _l("Please enter a whole number, without spaces or separators.")


class DayField(_OwnParseMessage, DateField):
    parse_message = _l("Please enter a date as YYYY-MM-DD.")


class ClockField(_OwnParseMessage, TimeField):
    parse_message = _l("Please enter a time as HH:MM, on a 24-hour clock.")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PetitionForm(FlaskForm):
    title = title_field(_l("Title"), _l("Please give the petition a title."))
    slug = slug_field(_l("Web address"))
    target = title_field(_l("Addressed to"), _l("Please say who the petition is addressed to."))
    body = markdown_field(_l("Text"))
    goal = WholeNumberField(
        _l("Signature goal"), default=1000,
        validators=[InputRequired(_l("Please set a goal.")),
                    NumberRange(min=1, max=GOAL_MAX,
                                message=_l("Please choose a goal between %(min)d and %(max)d.",
                                           min=1, max=GOAL_MAX))])
    deadline_date = DayField(_l("Closing date"), validators=[Optional()])
    deadline_time = ClockField(_l("Closing time"), validators=[Optional()])
    timezone = SelectField(_l("Time zone"), default="UTC")
    required_fields = CheckboxesField(
        _l("Fields signers must fill in"), default=["postal_code"],
        choices=[SelectChoice("postal_code", _l("Postal code")), SelectChoice("comment", _l("Comment"))])
    consent_wording = TextAreaField(
        _l("Wording of the mailing-list box"), filters=[clean_paragraphs],
        validators=[Optional(), keep_under(CONSENT_MAX), no_control_characters(allow_newlines=True)])
    signers_choose_demands = BooleanField(_l("Signers tick which of the campaign's demands they back"))
    status = RadioField(
        _l("Signatures"), default=PetitionStatus.OPEN.value,
        choices=[SelectChoice(PetitionStatus.OPEN.value, _l("Open: the petition takes signatures")),
                 SelectChoice(PetitionStatus.CLOSED.value, _l("Closed: it takes no more signatures"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = _timezone_choices()

    def validate_deadline_time(self, field):
        if field.data and not self.deadline_date.data:
            raise ValidationError(_l("Please choose a date as well."))

    def validate_deadline_date(self, field):
        if not field.data or self.timezone.data not in timezone_names():
            return
        local = self._local_deadline()
        # A time the clocks skip when they go forward does not exist there.
        if local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) != local.replace(tzinfo=None):
            raise ValidationError(
                _l("This time does not exist in that time zone (the clocks change then)."))

    def _local_deadline(self):
        return datetime.combine(self.deadline_date.data, self.deadline_time.data or END_OF_DAY,
                                tzinfo=ZoneInfo(self.timezone.data))

    @property
    def deadline_at(self):
        """The deadline typed, in UTC, or None."""
        return self._local_deadline().astimezone(UTC) if self.deadline_date.data else None

    def show_deadline(self, deadline_at, timezone_name):
        """Fill the deadline fields with ``deadline_at`` as seen in ``timezone_name``."""
        self.timezone.data = timezone_name
        if deadline_at is not None:
            local = deadline_at.astimezone(ZoneInfo(timezone_name))
            self.deadline_date.data = local.date()
            self.deadline_time.data = local.time().replace(second=0, microsecond=0)
