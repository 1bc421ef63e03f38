from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Length, ValidationError

from campaign.text import clean_line


def _valid_email(form, field):
    try:
        field.data = validate_email(field.data, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(_l("This email address is not valid.")) from None


class SupporterLinkForm(FlaskForm):
    email = EmailField(_l("Your email address"), filters=[clean_line], validators=[
        DataRequired(_l("Please enter an email address.")),
        Length(max=254, message=_l("This email address is too long.")), _valid_email])
