"""The sign form: shape only.

Whether the petition is open or already signed is the service's call."""

import functools

from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import html_params

from campaign.i18n import country_choices
from campaign.text import clean_line, clean_paragraphs, has_control_characters

NAME_MAX = 100
COMMENT_MAX = 1000


def _no_control_characters(allow_newlines=False):
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


class SignForm(FlaskForm):
    first_name = StringField(
        _l("First name"), filters=[clean_line],
        validators=[DataRequired(_l("Please enter your first name.")),
                    Length(max=NAME_MAX, message=_l("Please keep this under %(max)d characters.",
                                                     max=NAME_MAX)),
                    _no_control_characters()])
    last_name = StringField(
        _l("Last name"), filters=[clean_line],
        validators=[DataRequired(_l("Please enter your last name.")),
                    Length(max=NAME_MAX, message=_l("Please keep this under %(max)d characters.",
                                                     max=NAME_MAX)),
                    _no_control_characters()])
    email = EmailField(
        _l("Email"), filters=[clean_line],
        validators=[DataRequired(_l("Please enter your email address.")),
                    Length(max=254, message=_l("This email address is too long.")),
                    _no_control_characters(), _valid_email])
    postal_code = StringField(
        _l("Postal code"), filters=[lambda value: clean_line(value).upper()],
        validators=[DataRequired(_l("Please enter your postal code.")),
                    Length(max=16, message=_l("Please keep this under %(max)d characters.", max=16)),
                    Regexp(r"^[0-9A-Z][0-9A-Z \-]*$",
                           message=_l("A postal code has only letters, digits, spaces and hyphens."))])
    country = CountryField(
        _l("Country"),
        validators=[DataRequired(_l("Please choose your country."))])
    comment = TextAreaField(
        _l("Comment (optional)"), filters=[clean_paragraphs],
        validators=[Optional(),
                    Length(max=COMMENT_MAX,
                           message=_l("Please keep your comment under %(max)d characters.",
                                      max=COMMENT_MAX)),
                    _no_control_characters(allow_newlines=True)])
    wants_updates = BooleanField(_l("Keep me informed about this campaign"), default=False)
    source = HiddenField(filters=[lambda value: clean_line(value)[:100]])
    # Hidden from people by CSS and from assistive technology; bots fill it in.
    website = StringField(_l("Leave this field empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [("", _l("Choose your country…")), *country_choices(get_locale())]

    @property
    def is_bot(self):
        return bool(self.website.data)
