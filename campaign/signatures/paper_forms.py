"""The upload form of paper signatures: the file, and the event or label the sheets came from."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import Length, ValidationError

from campaign.signatures.paper import LABEL_MAX
from campaign.text import clean_line, has_control_characters


class PaperImportForm(FlaskForm):
    """``event_choices`` (``[(event_id, title)]``) are the campaign's events."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Please choose the CSV file."))])
    event = SelectField(_l("Event where the sheets were signed"),
                        coerce=str, default="")
    label = StringField(
        _l("Or a short label (where and when)"), filters=[clean_line],
        validators=[Length(max=LABEL_MAX, message=_l("Please keep this under %(max)d characters.",
                                                     max=LABEL_MAX))])

    def __init__(self, *args, event_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.event.choices = [("", _l("No event: use the label")),
                              *((str(event_id), title) for event_id, title in event_choices)]
        self._event_titles = {str(event_id): title for event_id, title in event_choices}

    def validate_label(self, field):
        if field.data and has_control_characters(field.data):
            raise ValidationError(_l("Please remove the invisible control characters."))
        if not self.event.data and not field.data:
            raise ValidationError(_l("Please choose the event or type a short label."))

    @property
    def where(self):
        """The event's title or the label: what the signatures' source will say."""
        return self._event_titles.get(self.event.data) or self.label.data
