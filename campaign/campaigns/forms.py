"""Organizers' campaign forms: shape only. Uniqueness, access and status rules are the services'."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from campaign.campaigns.services import SLUG_MAX, SLUG_PATTERN
from campaign.text import clean_line, clean_paragraphs, has_control_characters

TITLE_MAX = 200
SUMMARY_MAX = 500
MARKDOWN_MAX = 50_000
DEMAND_MAX = 300


def no_control_characters(allow_newlines=False):
    def check(form, field):
        if field.data and has_control_characters(field.data, allow_newlines=allow_newlines):
            raise ValidationError(
                _l("Please remove the invisible control characters from this field."))
    return check


def _slug_filter(value):
    return (value or "").strip().lower()


def keep_under(maximum):
    return Length(max=maximum, message=_l("Please keep this under %(max)d characters.", max=maximum))


def slug_field(label):
    return StringField(
        label, filters=[_slug_filter],
        validators=[Optional(), keep_under(SLUG_MAX),
                    Regexp(SLUG_PATTERN, message=_l(
                        "Use only lower-case letters (a–z), digits and single hyphens between them."))])


def title_field(label, message, maximum=TITLE_MAX):
    return StringField(label, filters=[clean_line],
                       validators=[DataRequired(message), keep_under(maximum), no_control_characters()])


def markdown_field(label):
    """Organizer-written Markdown, stored as written; it is sanitised when rendered."""
    return TextAreaField(label, filters=[clean_paragraphs],
                         validators=[Optional(), keep_under(MARKDOWN_MAX),
                                     no_control_characters(allow_newlines=True)])


class CampaignForm(FlaskForm):
    title = title_field(_l("Title"), _l("Please give the campaign a title."))
    slug = slug_field(_l("Web address"))
    summary = TextAreaField(
        _l("Summary"), filters=[clean_paragraphs],
        validators=[Optional(), keep_under(SUMMARY_MAX), no_control_characters(allow_newlines=True)])
    body = markdown_field(_l("Text"))
    share_image = FileField(_l("Share image"))
    remove_share_image = BooleanField(_l("Remove the current share image"))


class DemandForm(FlaskForm):
    text = title_field(_l("New demand"), _l("Please write the demand."), maximum=DEMAND_MAX)


class DemandActionForm(FlaskForm):
    """A button on one demand: save its text, move it, or remove it."""

    action = StringField(validators=[AnyOf(["save", "up", "down", "remove"])])
    text = StringField(_l("Demand"), filters=[clean_line],
                       validators=[Optional(), keep_under(DEMAND_MAX), no_control_characters()])

    def validate_text(self, field):
        if self.action.data == "save" and not field.data:
            raise ValidationError(_l("Please write the demand."))


class StatusForm(FlaskForm):
    status = HiddenField()


class OrganizerForm(FlaskForm):
    email = EmailField(_l("Email address of their account"), filters=[clean_line],
                       validators=[DataRequired(_l("Please enter an email address.")),
                                   keep_under(254)])

    def validate_email(self, field):
        try:
            field.data = validate_email(field.data, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise ValidationError(
                _l("This email address is not valid: %(reason)s", reason=str(error))) from None


class RemoveOrganizerForm(FlaskForm):
    user_id = IntegerField(validators=[DataRequired()])


class PreviewForm(FlaskForm):
    text = TextAreaField(validators=[Optional(), keep_under(MARKDOWN_MAX)])
