"""The RSVP form and the guests form: shape only.

Whether the event takes RSVPs, and whether places are left, is the services' call."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import TextInput

from campaign.events.rsvps import GUESTS_MAX
from campaign.signatures.forms import (
    STANDARD_CONSENT_WORDING,
    email_field,
    without_control_characters,
)
from campaign.text import clean_line

NAME_MAX = 200
# The form's field names start with this, as "rsvp-name": the page's other forms
# (the language switcher, later others) never collide with it.
RSVP_PREFIX = "rsvp"

_GUESTS_MESSAGE = _l("Please enter a number of guests from 0 to %(max)d.", max=GUESTS_MAX)
_DIGITS = re.compile(r"[0-9]{1,3}")


class GuestsField(IntegerField):
    """How many people come along: empty means none. Anything but plain digits
    ("abc", "-1", "1e3", "٣") gets the one clear message, not WTForms' own. A text input
    with a numeric keyboard, not type=number: browsers silently drop what a number
    input cannot parse, so the visitor would not see what was wrong."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        value = clean_line(valuelist[0])
        if not value:
            self.data = 0
        elif _DIGITS.fullmatch(value):
            self.data = int(value)
        else:
            self.data = None
            raise ValueError(str(_GUESTS_MESSAGE))


def _guests_in_range(form, field):
    # None: the value was not a number, and processing already said so.
    if field.data is not None and not 0 <= field.data <= GUESTS_MAX:
        raise ValidationError(_GUESTS_MESSAGE)


def _guests_field():
    return GuestsField(_l("Guests coming with you"), default=0, validators=[_guests_in_range],
                       render_kw={"inputmode": "numeric", "autocomplete": "off"})


class RsvpForm(FlaskForm):
    name = StringField(
        _l("Your name"), filters=[clean_line],
        validators=[DataRequired(_l("Please enter your name.")),
                    Length(max=NAME_MAX, message=_l("Please keep this under %(max)d characters.",
                                                     max=NAME_MAX)),
                    without_control_characters()])
    email = email_field()
    guests = _guests_field()
    # The label shown is the wording recorded with the consent.
    wants_updates = BooleanField(STANDARD_CONSENT_WORDING, default=False)
    # Hidden from people by CSS and from assistive technology; bots fill it in.
    website = StringField(_l("Leave this field empty"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", RSVP_PREFIX)
        super().__init__(*args, **kwargs)

    @property
    def is_bot(self):
        return bool(self.website.data)

    @property
    def consent_wording(self):
        return str(self.wants_updates.label.text) if self.wants_updates.data else ""


class GuestsForm(FlaskForm):
    """On an attendee's own RSVP page: change how many guests come along."""

    guests = _guests_field()
