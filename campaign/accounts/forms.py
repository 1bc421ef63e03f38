"""Account and user-administration forms: shape only.

Whether an address is taken or a password right is the services' call. The
password policy is checked here too, so that its reasons show next to the
field together with the form's other errors; the services check it again for
every other caller.
"""

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from campaign.accounts.models import UserRole
from campaign.accounts.passwords import PASSWORD_MAX_LENGTH, password_problems
from campaign.text import clean_line, clean_paragraphs, has_control_characters

REASON_MAX = 500


def _valid_email(form, field):
    if not field.data:
        return
    try:
        field.data = validate_email(field.data, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValidationError(
            _l("This email address is not valid: %(reason)s", reason=str(error))) from None


def _no_control_characters(form, field):
    if field.data and has_control_characters(field.data):
        raise ValidationError(_l("Please remove the invisible control characters from this field."))


def _email_field(label):
    return EmailField(label, filters=[clean_line], validators=[
        DataRequired(_l("Please enter an email address.")),
        Length(max=254, message=_l("This email address is too long.")),
        _no_control_characters, _valid_email])


def role_choices():
    return [(UserRole.ORGANIZER.value, _l("Organizer")), (UserRole.ADMIN.value, _l("Administrator"))]


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Please enter your password.")),
        Length(max=1024, message=_l("This password is too long."))])
    next = HiddenField()


class LoginForm(FlaskForm):
    # No format check on the address: any failure gets the same one message.
    email = EmailField(_l("Email"), filters=[clean_line],
                       validators=[DataRequired(_l("Please enter your email address.")),
                                   Length(max=320, message=_l("This email address is too long."))])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Please enter your password.")),
        Length(max=1024, message=_l("This password is too long."))])
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = _email_field(_l("Email"))


class _NewPasswordForm(FlaskForm):
    """A new password, typed twice, checked against the policy for ``account_email``."""

    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Please choose a password."))])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Please type the new password a second time.")),
        EqualTo("password", message=_l("The two passwords are not the same."))])

    def __init__(self, *args, account_email=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = account_email

    def validate_password(self, field):
        problems = password_problems(field.data, self.account_email)
        if problems:
            # Every reason at once, not one per attempt.
            raise ValidationError(" ".join(problems))


class AcceptInvitationForm(_NewPasswordForm):
    name = StringField(_l("Your name"), filters=[clean_line], validators=[
        DataRequired(_l("Please enter your name.")),
        Length(max=100, message=_l("Please keep this under %(max)d characters.", max=100)),
        _no_control_characters])


class ResetPasswordForm(_NewPasswordForm):
    pass


class ChangePasswordForm(_NewPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Please enter your current password.")),
        Length(max=PASSWORD_MAX_LENGTH * 4, message=_l("This password is too long."))])


class ChangeEmailForm(FlaskForm):
    new_email = _email_field(_l("New email address"))
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Please enter your current password.")),
        Length(max=PASSWORD_MAX_LENGTH * 4, message=_l("This password is too long."))])


class InviteForm(FlaskForm):
    email = _email_field(_l("Email"))
    role = SelectField(_l("Role"), choices=role_choices, default=UserRole.ORGANIZER.value,
                       validators=[DataRequired(_l("Please choose a role."))])


def _reason_field(label, required):
    validators = [DataRequired(_l("Please give a reason: it is kept in the audit log."))] \
        if required else [Optional()]
    return TextAreaField(label, filters=[clean_paragraphs], validators=[
        *validators, Length(max=REASON_MAX, message=_l("Please keep this under %(max)d characters.",
                                                       max=REASON_MAX))])


class ChangeRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices,
                       validators=[DataRequired(_l("Please choose a role."))])
    reason = _reason_field(_l("Reason (optional, kept in the audit log)"), required=False)


class DeactivateForm(FlaskForm):
    reason = _reason_field(_l("Reason (kept in the audit log)"), required=True)


class ReactivateForm(FlaskForm):
    reason = _reason_field(_l("Reason (optional, kept in the audit log)"), required=False)


class ResendInvitationForm(FlaskForm):
    """Only a button (and its CSRF token)."""
