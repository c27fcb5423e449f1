"""Forms for the specialist directory (admins) and for referrals (advocates on the contact page).

They check shape only; the services decide what a ZIP, a phone or a status move means.
"""

from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm.forms.admin import SkillsField
from crm.forms.base import BaseForm, no_control_characters
from crm.models.enums import ReferralStatus, SpecialistKind, Specialty


def _options(enum_cls) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in enum_cls.choices()]


def _text(label: str, length: int, required: bool = True):
    checks = [DataRequired(f"Enter the {label.lower()}.")] if required else [Optional()]
    return StringField(label, validators=[*checks, Length(max=length), no_control_characters])


class SpecialistForm(BaseForm):
    name = _text("Name", 120)
    kind = SelectField("Kind", choices=_options(SpecialistKind), validators=[InputRequired()])
    specialties = SkillsField("Specialties", choices=_options(Specialty))
    organisation = _text("Organisation", 160)
    city = _text("City", 80)
    state = _text("State", 2)
    zip_code = _text("ZIP code", 10)
    phone = _text("Phone", 30)
    email = _text("Email (optional)", 254, required=False)
    accepts_va = BooleanField("Accepts VA patients")
    active = BooleanField("Active (offered in matches)", default=True)


class ReferralStatusForm(BaseForm):
    # The status the advocate saw: a move made by someone else meanwhile is refused.
    expected_from = HiddenField(validators=[InputRequired("Open the contact again and retry.")])
    to_status = SelectField(
        "Move to", choices=_options(ReferralStatus), validators=[InputRequired("Choose a status.")]
    )
