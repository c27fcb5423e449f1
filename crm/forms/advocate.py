"""Forms on the advocate pages: one per contact action, each posted with its CSRF token.

They check shape only; what a move means (the transition table, who may assign whom) is the
services' to decide, so the refusals read the same from every page that offers the action.
"""

from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from crm.forms.base import BaseForm
from crm.models.enums import CloseOutcome, ConsentChannel, Stage
from crm.services.notes import MAX_NOTE_LENGTH
from crm.services.stages import MAX_REASON_LENGTH


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class NoteForm(BaseForm):
    body = TextAreaField(
        "Add a note",
        validators=[InputRequired("Write something first."), Length(max=MAX_NOTE_LENGTH)],
    )


class StageForm(BaseForm):
    # The stage the advocate saw: a move made by someone else meanwhile is refused, not clobbered.
    expected_from = HiddenField(validators=[InputRequired("Open the contact again and retry.")])
    # Every stage is accepted here: the transition table (crm/services/stages.py) refuses.
    to_stage = SelectField(
        "Move to", choices=_choices(Stage.choices()), validators=[InputRequired("Choose a stage.")]
    )
    outcome = SelectField(
        "Outcome (when closing)",
        choices=_choices([("", "Choose an outcome"), *CloseOutcome.choices()]),
        validators=[Optional()],
    )
    reason = TextAreaField("Why", validators=[Length(max=MAX_REASON_LENGTH)])


class DoNotContactForm(BaseForm):
    channel = SelectField(choices=_choices(ConsentChannel.choices()), validators=[InputRequired()])


class ActionForm(BaseForm):
    """An action that takes nothing but its CSRF token (send the guide again)."""


class AssignForm(BaseForm):
    # An id, or "" for nobody; the service decides who may be chosen.
    assignee = HiddenField()


class DuplicateForm(BaseForm):
    other_id = HiddenField(validators=[InputRequired()])
