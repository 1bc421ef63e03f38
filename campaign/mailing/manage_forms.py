"""The organizers' mailing forms: shape only. Access and status rules are the services'.

The audience's petition and event are chosen from the campaign's own: a posted id
that is not one of them is a form error, so a mailing never reaches another
campaign's signers or attendees, whatever the browser sends.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional, Regexp, ValidationError

from campaign.campaigns.forms import keep_under, no_control_characters
from campaign.db import utcnow
from campaign.i18n import country_choices
from campaign.mailing.audience import Audience
from campaign.mailing.render import MERGE_FIELDS, unknown_merge_fields, unreadable_braces
from campaign.petitions.forms import ClockField, DayField, _timezone_choices, timezone_names
from campaign.text import clean_line, clean_paragraphs

SUBJECT_MAX = 200
BODY_MAX = 50_000
SENDER_NAME_MAX = 100
EMAIL_MAX = 254
POSTAL_PREFIX_MAX = 10
# Far dates are typing mistakes, and the farthest overflow datetime in UTC.
YEAR_MAX = 2100
MERGE_EXAMPLE = '{{ first_name or "friend" }}'

def merge_field_names():
    """``{{ first_name }}, {{ last_name }}``: the fields an organizer may use, as written."""
    return ", ".join(f"{{{{ {name} }}}}" for name in MERGE_FIELDS)


def check_merge_fields(text):
    """Raise a ValidationError naming what in ``text`` is not a merge field we fill in."""
    unknown = unknown_merge_fields(text)
    if unknown:
        raise ValidationError(ngettext(
            "Unknown merge field: %(names)s. The fields you can use are %(allowed)s, for "
            "example %(example)s.",
            "Unknown merge fields: %(names)s. The fields you can use are %(allowed)s, for "
            "example %(example)s.", len(unknown),
            names=", ".join(f"{{{{ {name} }}}}" for name in unknown),
            allowed=merge_field_names(), example=MERGE_EXAMPLE))
    malformed = unreadable_braces(text)
    if malformed:
        raise ValidationError(gettext(
            "“%(text)s” cannot be filled in: it would be sent as typed. Write a merge field "
            "in lower case, as %(allowed)s, with a fallback in straight double quotes if you "
            "like: %(example)s.", text=malformed[0][:60], allowed=merge_field_names(),
            example=MERGE_EXAMPLE))


def _merge_fields(form, field):
    check_merge_fields(field.data)


def _choice_of(ids, message):
    """The posted value is empty or one of ``ids`` (the campaign's own), else ``message``."""
    def check(form, field):
        if field.data and field.data not in ids:
            raise ValidationError(message)
    return check


class AudienceForm(FlaskForm):
    """Who a mailing goes to: the campaign's subscribers, narrowed by any of these."""

    petition_id = SelectField(_l("Who signed the petition"), validate_choice=False)
    event_id = SelectField(_l("Who is coming to the event"), validate_choice=False)
    country = SelectField(_l("Who live in"), validate_choice=False)
    postal_prefix = StringField(
        _l("Whose postal code starts with"), filters=[clean_line, lambda value: (value or "").upper()],
        validators=[Optional(), keep_under(POSTAL_PREFIX_MAX),
                    Regexp(r"^[A-Z0-9 ]*$", message=_l("Please use only letters, digits and spaces."))])

    def __init__(self, *args, petitions=(), events=(), locale="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.petition_id.choices = [("", _l("Any petition, or none"))] + [
            (str(petition.id), petition.title) for petition in petitions]
        self.event_id.choices = [("", _l("Any event, or none"))] + [
            (str(event.id), event.title) for event in events]
        self.country.choices = [("", _l("Any country")), *country_choices(locale)]
        # Checked here, not by WTForms' own choice check, for a message that says what is wrong.
        self.petition_id.validators = [_choice_of(
            {value for value, _ in self.petition_id.choices[1:]},
            _l("Please choose one of this campaign's petitions."))]
        self.event_id.validators = [_choice_of(
            {value for value, _ in self.event_id.choices[1:]},
            _l("Please choose one of this campaign's events."))]
        self.country.validators = [_choice_of(
            {value for value, _ in self.country.choices[1:]}, _l("Please choose a country from the list."))]

    def audience(self):
        """The narrowing chosen (call after validating)."""
        return Audience(petition_id=int(self.petition_id.data) if self.petition_id.data else None,
                        event_id=int(self.event_id.data) if self.event_id.data else None,
                        country=self.country.data or "", postal_prefix=self.postal_prefix.data or "")

    def show_audience(self, audience):
        self.petition_id.data = str(audience.petition_id or "")
        self.event_id.data = str(audience.event_id or "")
        self.country.data = audience.country
        self.postal_prefix.data = audience.postal_prefix


class MailingForm(AudienceForm):
    subject = StringField(_l("Subject"), filters=[clean_line], validators=[
        DataRequired(_l("Please write a subject.")), keep_under(SUBJECT_MAX), no_control_characters(),
        _merge_fields])
    body = TextAreaField(_l("Message"), filters=[clean_paragraphs], validators=[
        DataRequired(_l("Please write the message.")), keep_under(BODY_MAX),
        no_control_characters(allow_newlines=True), _merge_fields])
    sender_name = StringField(_l("Sender's name"), filters=[clean_line], validators=[
        Optional(), keep_under(SENDER_NAME_MAX), no_control_characters()])
    reply_to = EmailField(_l("Replies go to"), filters=[clean_line],
                          validators=[Optional(), keep_under(EMAIL_MAX)])

    def validate_reply_to(self, field):
        if not field.data:
            return
        try:
            field.data = validate_email(field.data, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValidationError(
                _l("This email address is not valid: %(reason)s", reason=str(error))) from None


class ScheduleForm(FlaskForm):
    """A local date and time in an IANA zone; :meth:`send_at` gives it in UTC."""

    send_date = DayField(_l("Date"), validators=[InputRequired(_l("Please choose the day to send it."))])
    send_time = ClockField(_l("Time"), validators=[InputRequired(_l("Please choose the time to send it."))])
    timezone = SelectField(_l("Time zone"), default="UTC")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = _timezone_choices()

    def validate_send_time(self, field):
        if field.data is None or self.send_date.data is None or self.send_date.errors \
                or self.timezone.data not in timezone_names():
            return
        if self.send_date.data.year > YEAR_MAX:
            raise ValidationError(_l("Please choose a date before %(year)d.", year=YEAR_MAX))
        local = self._local()
        # A time the clocks skip when they go forward does not exist there: the round
        # trip through UTC lands an hour away from it.
        if local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) != local.replace(tzinfo=None):
            raise ValidationError(_l("This time does not exist in that time zone (the clocks change then)."))
        if local.astimezone(UTC) <= utcnow():
            raise ValidationError(_l("This time has passed: please choose a time in the future."))

    def _local(self):
        # fold=0: a time the clocks repeat when they go back is its first occurrence.
        return datetime.combine(self.send_date.data, self.send_time.data, tzinfo=ZoneInfo(self.timezone.data))

    def send_at(self):
        """The time chosen, as an aware UTC datetime (call after validating)."""
        return self._local().astimezone(UTC)

    def show_time(self, moment, timezone_name):
        local = moment.astimezone(ZoneInfo(timezone_name))
        self.timezone.data = timezone_name
        self.send_date.data = local.date()
        self.send_time.data = local.time().replace(second=0, microsecond=0)


class SendForm(FlaskForm):
    confirm = BooleanField(
        _l("I have checked the preview and the audience."),
        validators=[DataRequired(_l("Please tick the box to confirm that you have checked the "
                                    "preview and the audience."))])


class CancelMailingForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, cancel this mailing. It will not be sent."),
        validators=[DataRequired(_l("Please tick the box to confirm that the mailing is cancelled."))])


class ButtonForm(FlaskForm):
    """A button with nothing but its CSRF token: test, unschedule, pause, resume."""
