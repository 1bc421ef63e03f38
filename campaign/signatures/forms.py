"""The sign form: shape only.

Whether the petition is open or already signed is the service's call."""

import functools
import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, html_params

from campaign.i18n import country_choices
from campaign.text import clean_line, clean_paragraphs, has_control_characters

NAME_MAX = 100
COMMENT_MAX = 1000
TRACKING_MAX = 100
HOST_MAX = 255
# Of the fields a petition may require (postal code, comment), those it does unless told.
DEFAULT_REQUIRED_FIELDS = ("postal_code",)
STANDARD_CONSENT_WORDING = _l("Keep me informed about this campaign")

_HOST = re.compile(r"[a-z0-9_.:\-]+")


def without_control_characters(allow_newlines=False):
    """A validator refusing invisible control characters (newlines only if allowed)."""
    def check(form, field):
        if field.data and has_control_characters(field.data, allow_newlines=allow_newlines):
            raise ValidationError(
                _l("Please remove the invisible control characters from this field."))
    return check


def _valid_email(form, field):
    if not field.data:
        return
    try:
        # No DNS look-up while the visitor waits: a mistyped domain is caught by
        # the confirmation email never arriving, and the page says to check it.
        result = validate_email(field.data, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(
            _l("This email address is not valid: %(reason)s", reason=str(error))) from None
    field.data = result.normalized


class CountrySelect:
    """Renders the ~250 country options from one string built per language.

    WTForms' own Select widget escapes and formats every option on every page
    view, which made it the costliest part of rendering a campaign page.
    """

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        options = _country_options_html(str(get_locale()))
        if field.data:
            chosen = escape(field.data)
            options = options.replace(f'<option value="{chosen}">',
                                      f'<option selected value="{chosen}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704


@functools.lru_cache(maxsize=8)
def _country_options_html(locale_name):
    choices = [("", _l("Choose your country…")), *country_choices(locale_name)]
    return "".join(f'<option value="{escape(code)}">{escape(name)}</option>' for code, name in choices)


class CountryField(SelectField):
    widget = CountrySelect()

    def pre_validate(self, form):
        if self.data and self.data not in _country_codes():
            raise ValidationError(_l("Please choose a country from the list."))


@functools.cache
def _country_codes():
    return frozenset(code for code, _name in country_choices("en"))


def tracking_value(value):
    """A sign link's ``source``/``utm_*`` value: one clean line of at most 100 characters."""
    return clean_line(value)[:TRACKING_MAX]


def referrer_host(value):
    """The host a visitor came from, given a Referer URL or a bare host name: lower-cased,
    without port, path or query, at most 255 characters; "" when it is not a host name."""
    value = clean_line(value)
    if "/" in value:
        try:
            value = urlsplit(value).hostname or ""
        except ValueError:
            return ""
    elif value.count(":") == 1:
        value = value.partition(":")[0]  # a port
    host = value.lower().rstrip(".")
    if len(host) > HOST_MAX or not _HOST.fullmatch(host):
        return ""
    return host


_POSTAL_CODE_SHAPE = (
    Length(max=16, message=_l("Please keep this under %(max)d characters.", max=16)),
    Regexp(r"^[0-9A-Z][0-9A-Z \-]*$",
           message=_l("A postal code has only letters, digits, spaces and hyphens.")),
)
_POSTAL_CODE_REQUIRED = (DataRequired(_l("Please enter your postal code.")), *_POSTAL_CODE_SHAPE)
_POSTAL_CODE_OPTIONAL = (Optional(), *_POSTAL_CODE_SHAPE)
_COMMENT_SHAPE = (
    Length(max=COMMENT_MAX,
           message=_l("Please keep your comment under %(max)d characters.", max=COMMENT_MAX)),
    without_control_characters(allow_newlines=True),
)
_COMMENT_REQUIRED = (DataRequired(_l("Please write a comment.")), *_COMMENT_SHAPE)
_COMMENT_OPTIONAL = (Optional(), *_COMMENT_SHAPE)


def email_field():
    """A supporter's email address: required, checked and normalised by email-validator."""
    return EmailField(
        _l("Email"), filters=[clean_line],
        validators=[DataRequired(_l("Please enter your email address.")),
                    Length(max=254, message=_l("This email address is too long.")),
                    without_control_characters(), _valid_email])


class DemandsField(SelectMultipleField):
    """The campaign's demands as checkboxes (the template renders each one)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SignForm(FlaskForm):
    """The sign form of one petition. The petition's settings come as keyword arguments:
    ``required_fields`` (Petition.required_fields) and ``consent_wording``; see
    :class:`SignFormWithDemands` for petitions whose signers choose demands."""

    first_name = StringField(
        _l("First name"), filters=[clean_line],
        validators=[DataRequired(_l("Please enter your first name.")),
                    Length(max=NAME_MAX, message=_l("Please keep this under %(max)d characters.",
                                                     max=NAME_MAX)),
                    without_control_characters()])
    last_name = StringField(
        _l("Last name"), filters=[clean_line],
        validators=[DataRequired(_l("Please enter your last name.")),
                    Length(max=NAME_MAX, message=_l("Please keep this under %(max)d characters.",
                                                     max=NAME_MAX)),
                    without_control_characters()])
    email = email_field()
    postal_code = StringField(
        _l("Postal code"), filters=[lambda value: clean_line(value).upper()],
        validators=list(_POSTAL_CODE_REQUIRED))
    country = CountryField(
        _l("Country"),
        validators=[DataRequired(_l("Please choose your country."))])
    comment = TextAreaField(
        _l("Comment (optional)"), filters=[clean_paragraphs], validators=list(_COMMENT_OPTIONAL))
    demands = None  # see SignFormWithDemands
    wants_updates = BooleanField(STANDARD_CONSENT_WORDING, default=False)
    source = HiddenField(filters=[tracking_value])
    utm_source = HiddenField(filters=[tracking_value])
    utm_medium = HiddenField(filters=[tracking_value])
    utm_campaign = HiddenField(filters=[tracking_value])
    # The host of the page that linked to the form's page (see petitions.views).
    ref = HiddenField(filters=[referrer_host])
    # Hidden from people by CSS and from assistive technology; bots fill it in.
    website = StringField(_l("Leave this field empty"))

    def __init__(self, *args, required_fields=None, consent_wording="", **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("Choose your country…")), *country_choices(get_locale())]
        required = DEFAULT_REQUIRED_FIELDS if required_fields is None else required_fields
        if "postal_code" not in required:
            _set_required(self.postal_code, False, _POSTAL_CODE_OPTIONAL,
                          _l("Postal code (optional)"))
        if "comment" in required:
            _set_required(self.comment, True, _COMMENT_REQUIRED, _l("Comment"))
        if consent_wording:
            # The label shown is the wording recorded with the consent.
            self.wants_updates.label.text = consent_wording

    @property
    def is_bot(self):
        return bool(self.website.data)


class SignFormWithDemands(SignForm):
    """The sign form of a petition whose signers tick the demands they back, given as
    ``demand_choices`` (``[(demand_id, text)]``). A class of its own, so the
    usual form does not build a field it would not use."""

    demands = DemandsField(
        _l("The demands you back"), coerce=int,
        validators=[DataRequired(_l("Please tick at least one demand you back."))])

    def __init__(self, *args, demand_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.demands.choices = [SelectChoice(str(demand_id), text)
                                for demand_id, text in demand_choices]
        if self.demands.data is None:
            # A fresh form (nothing posted): every demand starts ticked.
            self.demands.data = [demand_id for demand_id, _text in demand_choices]


def _set_required(field, required, validators, label):
    # On this form's own field only: the class's validator lists are shared by every form.
    field.validators = validators
    field.flags.required = required
    field.flags.optional = not required
    field.label.text = label
