"""The three public forms: free guide, callback request and specialist match."""

from flask import Request
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from crm.forms.base import (
    BaseForm,
    MustBeTicked,
    clipped,
    email_address,
    fold_white_space,
    no_control_characters,
    person_name,
    us_phone,
)
from crm.models.attribution import ATTRIBUTION_FIELDS
from crm.models.enums import (
    BestTime,
    CancerStage,
    ConsentChannel,
    Diagnosis,
    FormKind,
    Interest,
    Language,
    Relationship,
    VeteranBranch,
)
from crm.services.leads import LeadInput
from crm.services.lookups import InvalidInput, known_states, lookup_zip, time_zone_for_phone


def _options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _choices(enum_cls, placeholder: str = "Choose one") -> list[SelectChoice]:
    return _options([("", placeholder), *enum_cls.choices()])


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _hidden(length: int) -> HiddenField:
    return HiddenField(filters=[clipped(length)])


class PublicLeadForm(BaseForm):
    """Fields and checks shared by every public form."""

    form_kind: FormKind

    first_name = StringField(
        "First name",
        validators=[InputRequired("Please tell us your first name."), Length(max=80), person_name],
        filters=[fold_white_space],
        render_kw={"autocomplete": "given-name"},
    )
    last_name = StringField(
        "Last name",
        validators=[Optional(), Length(max=80), person_name],
        filters=[fold_white_space],
        render_kw={"autocomplete": "family-name"},
    )
    email = StringField(
        "Email",
        validators=[Optional(), Length(max=254), email_address],
        render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"},
    )
    phone = StringField(
        "Phone",
        validators=[Optional(), Length(max=40), us_phone],
        render_kw={"autocomplete": "tel", "type": "tel", "inputmode": "tel"},
    )
    zip = StringField(
        "ZIP code",
        validators=[Optional(), Length(max=10)],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    diagnosis = SelectField("Diagnosis", choices=_choices(Diagnosis), validators=[Optional()])
    is_veteran = BooleanField("The patient is a U.S. military veteran")
    veteran_branch = SelectField(
        "Branch of service", choices=_choices(VeteranBranch), validators=[Optional()]
    )
    # Optional with a default, so a visitor (or an API client) who skips it is called in English.
    preferred_language = SelectField(
        "Preferred language for calls",
        choices=_options(Language.choices()),
        default=Language.en.value,
        validators=[Optional()],
    )
    consent_calls = BooleanField("Yes, you may call and text me")
    consent_email = BooleanField("Yes, you may email me")
    # Honeypot: hidden from people by CSS; bots fill it in.
    website = StringField("Leave this field empty", filters=[clipped(200)])
    form_token = HiddenField()
    page_url = _hidden(1000)
    utm_source = _hidden(200)
    utm_medium = _hidden(200)
    utm_campaign = _hidden(200)
    utm_term = _hidden(200)
    utm_content = _hidden(200)
    gclid = _hidden(200)
    landing_page = _hidden(1000)
    referrer = _hidden(1000)

    zip_info = None

    def fill_attribution(self, request: Request) -> None:
        """Carry the page's campaign parameters and referrer into the hidden fields."""
        for name in ATTRIBUTION_FIELDS:
            if name in ("landing_page", "referrer"):
                continue
            if request.args.get(name):
                getattr(self, name).data = clipped(200)(request.args[name])
        self.page_url.data = clipped(1000)(request.url)
        self.landing_page.data = clipped(1000)(request.args.get("landing_page") or request.url)
        self.referrer.data = clipped(1000)(request.referrer)

    def validate_zip(self, field) -> None:
        if not field.data:
            return
        try:
            self.zip_info = lookup_zip(field.data)
        except InvalidInput as error:
            raise ValidationError(str(error)) from error
        field.data = self.zip_info.zip_code

    def validate_veteran_branch(self, field) -> None:
        if not self.is_veteran.data:
            field.data = None

    def consents(self) -> dict[ConsentChannel, bool]:
        return {
            ConsentChannel.calls_texts: bool(self.consent_calls.data),
            ConsentChannel.email: bool(self.consent_email.data),
        }

    def details(self) -> dict:
        """The answers only this form asks for."""
        return {}

    def to_lead(self) -> LeadInput:
        """Return the validated answers in the shape the capture service stores."""
        time_zone = self.zip_info.time_zone if self.zip_info else None
        if time_zone is None and self.phone.data:
            time_zone = time_zone_for_phone(self.phone.data)
        return LeadInput(
            form=self.form_kind,
            first_name=self.first_name.data,
            last_name=self.last_name.data or "",
            email=self.email.data or None,
            phone_e164=self.phone.data or None,
            zip_code=self.zip_info.zip_code if self.zip_info else None,
            state=self.zip_info.state if self.zip_info else None,
            time_zone=time_zone,
            relationship=_enum_or_none(Relationship, getattr(self, "relationship", None)),
            diagnosis=_enum_or_none(Diagnosis, self.diagnosis),
            is_veteran=bool(self.is_veteran.data),
            veteran_branch=_enum_or_none(VeteranBranch, self.veteran_branch),
            preferred_language=Language(self.preferred_language.data or Language.en.value),
            consents=self.consents(),
            details=self.details(),
            attribution={name: getattr(self, name).data for name in ATTRIBUTION_FIELDS},
        )


def _enum_or_none(enum_cls, field):
    return enum_cls(field.data) if field is not None and field.data else None


class GuideForm(PublicLeadForm):
    form_kind = FormKind.guide

    email = StringField(
        "Email (we send the guide here)",
        validators=[
            InputRequired("Please enter your email so we can send the guide."),
            Length(max=254),
            email_address,
        ],
        render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"},
    )
    relationship = SelectField(
        "Who is the guide for?", choices=_choices(Relationship), validators=[Optional()]
    )
    interests = MultiCheckboxField(
        "What would you like to know about?",
        choices=_options(Interest.choices()),
        validators=[Optional()],
    )
    printed_guide = BooleanField("Also mail me a printed copy")
    address_line1 = StringField("Street address", validators=[Optional(), Length(max=120)])
    address_line2 = StringField(
        "Apartment, suite (optional)", validators=[Optional(), Length(max=120)]
    )
    city = StringField("City", validators=[Optional(), Length(max=80)])
    address_state = SelectField(
        "State",
        choices=_options([("", "Choose"), *((state, state) for state in known_states())]),
        validators=[Optional()],
    )
    address_zip = StringField("ZIP code for mailing", validators=[Optional(), Length(max=10)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.printed_guide.data:
            valid = self._require_mailing_address() and valid
        return valid

    def _require_mailing_address(self) -> bool:
        missing = False
        for field in (self.address_line1, self.city, self.address_state, self.address_zip):
            if not field.data:
                field.errors.append("Please fill this in so we can mail the printed guide.")
                missing = True
        if self.address_zip.data:
            try:
                mailing_zip = lookup_zip(self.address_zip.data)
            except InvalidInput as error:
                self.address_zip.errors.append(str(error))
                return False
            self.address_zip.data = mailing_zip.zip_code
            if self.address_state.data and self.address_state.data != mailing_zip.state:
                self.address_zip.errors.append(
                    f"This ZIP code is in {mailing_zip.state}. Please check the state or the ZIP."
                )
                return False
        return not missing

    def details(self) -> dict:
        answers = {"interests": list(self.interests.data or []), "printed_guide": False}
        if self.printed_guide.data:
            answers["printed_guide"] = True
            answers["mailing_address"] = {
                "line1": self.address_line1.data,
                "line2": self.address_line2.data or None,
                "city": self.city.data,
                "state": self.address_state.data,
                "zip": self.address_zip.data,
            }
        return answers


class CallbackForm(PublicLeadForm):
    form_kind = FormKind.callback

    phone = StringField(
        "Phone (we call you here)",
        validators=[
            InputRequired("Please enter the number we should call."),
            Length(max=40),
            us_phone,
        ],
        render_kw={"autocomplete": "tel", "type": "tel", "inputmode": "tel"},
    )
    best_time = RadioField(
        "When should we call?", choices=_options(BestTime.choices()), default=BestTime.asap.value
    )
    consent_calls = BooleanField(
        "Yes, you may call and text me",
        validators=[MustBeTicked("Please tick this box so that an advocate may call you.")],
    )
    message = TextAreaField(
        "Anything you would like us to know? (optional)",
        validators=[Optional(), Length(max=2000), no_control_characters],
    )

    def details(self) -> dict:
        return {
            "best_time": self.best_time.data or BestTime.asap.value,
            "message": self.message.data,
        }


class SpecialistMatchForm(PublicLeadForm):
    form_kind = FormKind.specialist_match

    zip = StringField(
        "ZIP code (to find specialists near you)",
        validators=[InputRequired("Please enter your ZIP code."), Length(max=10)],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    diagnosis = SelectField(
        "Diagnosis",
        choices=_choices(Diagnosis),
        validators=[InputRequired("Please choose the diagnosis, or Not sure yet.")],
    )
    cancer_stage = SelectField(
        "Stage, if known", choices=_choices(CancerStage, "Not known"), validators=[Optional()]
    )
    current_treatment = StringField(
        "Current treatment (optional)",
        validators=[Optional(), Length(max=300), no_control_characters],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if (
            not self.email.data
            and not self.phone.data
            and not self.email.errors
            and not self.phone.errors
        ):
            self.email.errors.append("Please give us an email address or a phone number.")
            valid = False
        return valid

    def details(self) -> dict:
        return {
            "cancer_stage": self.cancer_stage.data or None,
            "current_treatment": self.current_treatment.data or None,
        }


PUBLIC_FORMS: dict[FormKind, type[PublicLeadForm]] = {
    FormKind.guide: GuideForm,
    FormKind.callback: CallbackForm,
    FormKind.specialist_match: SpecialistMatchForm,
}
