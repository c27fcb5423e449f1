"""Managers' forms: the audit log's filters."""

from wtforms import DateField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional, ValidationError

from crm.forms.base import BaseForm
from crm.models.enums import AuditAction


def _options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class AuditFilterForm(BaseForm):
    """Filters read from the query string (a GET form: nothing to protect from CSRF)."""

    class Meta:
        csrf = False

    user = SelectField("User", coerce=str, validators=[Optional()])
    action = SelectField(
        "Action",
        choices=_options([("", "Any action"), *AuditAction.choices()]),
        validators=[Optional()],
    )
    contact_id = IntegerField(
        "Contact id",
        validators=[Optional(), NumberRange(1, 2**31 - 1, "That is not a contact id.")],
    )
    since = DateField("From (UTC)", validators=[Optional()])
    until = DateField("To (UTC, inclusive)", validators=[Optional()])

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.user.choices = _options(
            [("", "Anyone"), *((str(user.id), user.name) for user in staff)]
        )

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date comes before the start date.")
