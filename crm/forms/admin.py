"""Admin forms: staff accounts and the organisation's guide PDF."""

import re

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from crm.forms.base import BaseForm, email_address, no_control_characters
from crm.models.enums import Role, Skill
from crm.services import passwords, users

_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class SkillsField(SelectMultipleField):
    """Checkboxes, one per skill."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _options(enum_cls) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in enum_cls.choices()]


def language_list(value: str | None) -> list[str]:
    """'en, ES ,pt' -> ['en', 'es', 'pt']."""
    return [code.strip().lower() for code in (value or "").split(",") if code.strip()]


def languages_check(form, field) -> None:
    codes = language_list(field.data)
    if not codes or not all(_LANGUAGE.match(code) for code in codes):
        raise ValidationError("List two- or three-letter codes separated by commas, like en, es.")


def hours_check(form, field) -> None:
    if field.data and not _HOURS.match(field.data):
        raise ValidationError("Use HH:MM-HH:MM in 24-hour time, like 09:00-17:30.")
    if field.data and field.data[:5] >= field.data[6:]:
        raise ValidationError("The end of the working hours comes after their start.")


class _AccountFields(BaseForm):
    name = StringField(
        "Name",
        validators=[DataRequired("Enter a name."), Length(max=120), no_control_characters],
    )
    role = SelectField("Role", choices=_options(Role), default=Role.advocate.value)
    skills = SkillsField("Skills", choices=_options(Skill), validate_choice=True)
    languages = StringField(
        "Languages",
        default="en",
        validators=[Length(max=100), languages_check],
        description=(
            "Two- or three-letter codes separated by commas, like en, es. The call queue"
            " routes Spanish speakers by the Spanish skill above, not by this list."
        ),
    )
    working_hours = StringField(
        "Working hours",
        validators=[Optional(), hours_check],
        description="HH:MM-HH:MM in the organisation's time zone; empty for the usual hours.",
    )


class NewUserForm(_AccountFields):
    email = EmailField(
        "Email", validators=[DataRequired("Enter an email."), Length(max=254), email_address]
    )
    password = PasswordField(
        "Initial password",
        validators=[DataRequired("Choose an initial password.")],
        description=f"At least {passwords.MIN_LENGTH} characters; not a common password.",
    )

    def validate_email(self, field) -> None:
        if field.data and users.find_user(field.data) is not None:
            raise ValidationError("A user with that email already exists.")

    def validate_password(self, field) -> None:
        try:
            passwords.check_policy(
                field.data, email=self.email.data or "", name=self.name.data or ""
            )
        except passwords.PasswordRefused as refused:
            raise ValidationError(str(refused)) from refused


class EditUserForm(_AccountFields):
    active = BooleanField("Active (can sign in)")
    new_password = PasswordField(
        "New password",
        validators=[Optional()],
        description="Leave empty to keep the current one. A new one signs the user out.",
    )

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._email = email

    def validate_new_password(self, field) -> None:
        try:
            passwords.check_policy(field.data, email=self._email, name=self.name.data or "")
        except passwords.PasswordRefused as refused:
            raise ValidationError(str(refused)) from refused


class ConfirmForm(BaseForm):
    """A button that changes something: only the CSRF token."""


class GuideUploadForm(BaseForm):
    file = FileField("Guide PDF", validators=[FileRequired("Choose a PDF file to upload.")])
