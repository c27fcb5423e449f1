"""The chat's forms: the visitor's pre-chat step, messages, the advocate's close and transfer,
and the managers' canned replies."""

from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

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


class AdvocateReplyForm(ChatMessageForm):
    """The advocate's reply, with a canned reply to start from (Use fills the box)."""

    body = TextAreaField(
        "Your reply",
        render_kw={"rows": 4, "maxlength": MESSAGE_MAX_CHARS, "autocomplete": "off"},
    )
    # Choices are the active canned replies, set when the page is drawn; the chosen one is
    # looked up again when used, so a reply retired meanwhile is refused, not sent.
    canned_reply = SelectField("Canned reply", choices=[], validate_choice=False)

    def set_canned_choices(self, replies) -> None:
        self.canned_reply.choices = [SelectChoice("", "Choose a canned reply")] + [
            SelectChoice(str(reply.id), reply.title, render_kw={"data-text": reply.body})
            for reply in replies
        ]
        self.canned_reply.data = ""


def _user_id(value) -> int | None:
    """A user id from the form, or None for "Choose an advocate" (refused as a choice)."""
    if value in (None, ""):
        return None
    return int(value)


class ChatTransferForm(BaseForm):
    to_user_id = SelectField(
        "Transfer to",
        coerce=_user_id,
        choices=[],
        validate_choice=False,
        validators=[InputRequired("Please choose who should take the chat.")],
    )

    def set_targets(self, targets) -> None:
        self.to_user_id.choices = [SelectChoice("", "Choose an advocate")] + [
            SelectChoice(target.id, target.name) for target in targets
        ]


class CannedReplyForm(BaseForm):
    """A manager's canned reply; the service checks lengths and says why."""

    title = StringField("Title", description="What advocates pick it by, e.g. “Greeting”.")
    body = TextAreaField(
        "Text",
        description="Advocates can change it before they send it.",
        render_kw={"rows": 5, "maxlength": MESSAGE_MAX_CHARS},
    )
    position = IntegerField(
        "Order",
        default=0,
        description="Lower numbers come first in the advocates' list.",
        validators=[NumberRange(0, 999, "The order is a number from 0 to 999.")],
    )
    active = BooleanField("Offered to advocates", default=True)
