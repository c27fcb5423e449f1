"""The chat's forms: the visitor's pre-chat step, a message, and the advocate's close."""

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from crm.forms.base import BaseForm, clipped
from crm.forms.public import PublicLeadForm
from crm.models.chat import MESSAGE_MAX_CHARS
from crm.models.enums import ChatOutcome


class ChatStartForm(BaseForm):
    """The pre-chat step: the forms' own first-name field, honeypot and signed render time."""

    first_name = PublicLeadForm.first_name
    website = StringField("Leave this field empty", filters=[clipped(200)])
    form_token = HiddenField()


class ChatMessageForm(BaseForm):
    """One message; emptiness and size are judged by the chat service, which says why."""

    body = TextAreaField(
        "Your message",
        render_kw={"rows": 3, "maxlength": MESSAGE_MAX_CHARS, "autocomplete": "off"},
    )


class ChatCloseForm(BaseForm):
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice(value, label) for value, label in ChatOutcome.choices()],
        validators=[InputRequired("Please choose how the chat ended.")],
    )


class ChatAcceptForm(BaseForm):
    """Nothing to fill in: the CSRF token only."""
