"""The chat's forms: the visitor's pre-chat step, a message, and the advocate's close."""

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from crm.forms.base import BaseForm, clipped
from crm.forms.public import PublicLeadForm
from crm.models.chat import MESSAGE_MAX_CHARS
from crm.models.enums import ChatOutcome, ConsentChannel, FormKind
from crm.services.leads import LeadInput
from crm.services.lookups import time_zone_for_phone


class ChatStartForm(BaseForm):
    """The pre-chat step: the forms' own fields, consent boxes, honeypot and render time."""

    first_name = PublicLeadForm.first_name
    email = PublicLeadForm.email
    phone = PublicLeadForm.phone
    consent_calls = PublicLeadForm.consent_calls
    consent_email = PublicLeadForm.consent_email
    website = StringField("Leave this field empty", filters=[clipped(200)])
    form_token = HiddenField()

    def to_lead(self) -> LeadInput | None:
        """The pre-chat step as a lead for the capture service, when it says how to reach them."""
        if not self.email.data and not self.phone.data:
            return None
        phone = self.phone.data or None
        return LeadInput(
            form=FormKind.chat,
            first_name=self.first_name.data,
            last_name="",
            email=self.email.data or None,
            phone_e164=phone,
            time_zone=time_zone_for_phone(phone) if phone else None,
            consents={
                ConsentChannel.calls_texts: bool(self.consent_calls.data),
                ConsentChannel.email: bool(self.consent_email.data),
            },
        )


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


class ChatTypingForm(BaseForm):
    """'I am typing': the CSRF token only (chat.js posts it from the page's message form)."""
