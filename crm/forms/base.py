"""The form every other form builds on, and validators shared between audiences."""

import re

from flask_wtf import FlaskForm
from wtforms import ValidationError
from wtforms.validators import StopValidation

from crm.services.lookups import InvalidInput, normalise_email, normalise_us_phone

# Letters of any script, joined by spaces, apostrophes, hyphens or periods ("Mary-Jo", "O'Brien").
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\u2019.\-]+[^\W\d_]+)*\.?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BaseForm(FlaskForm):
    """Strips surrounding white space from every text input."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            if strip_text not in filters:
                filters = [strip_text, *filters]
            return unbound_field.bind(form=form, filters=filters, **options)

    def first_error(self) -> str | None:
        for errors in self.errors.values():
            if errors:
                return errors[0]
        return None


class MustBeTicked:
    """A checkbox the form cannot go without; flagged required so the API schema says so."""

    field_flags = {"required": True}

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data is not True:
            raise StopValidation(self.message)


def strip_text(value):
    return value.strip() if isinstance(value, str) else value


def fold_white_space(value):
    """Join a name typed over several lines (or pasted with tabs) into one line."""
    return " ".join(value.split()) if isinstance(value, str) else value


def person_name(form, field) -> None:
    """Accept names in any script, with apostrophes and hyphens; no digits or symbols."""
    if field.data and not _NAME.match(field.data):
        raise ValidationError("Please use letters only (apostrophes and hyphens are fine).")


def email_address(form, field) -> None:
    """Check the syntax (no network look-up) and store the normalised address."""
    if not field.data:
        return
    try:
        field.data = normalise_email(field.data)
    except InvalidInput as error:
        raise ValidationError(
            "Please enter a valid email address, like name@example.com."
        ) from error


def us_phone(form, field) -> None:
    """Accept a real US number in any common format and store it as E.164."""
    if not field.data:
        return
    try:
        field.data = normalise_us_phone(field.data)
    except InvalidInput as error:
        raise ValidationError(str(error)) from error


def no_control_characters(form, field) -> None:
    if field.data and _CONTROL.search(field.data.replace("\r\n", "\n").replace("\n", "")):
        raise ValidationError("Please remove the special characters from this field.")


def clipped(length: int):
    """A filter that cuts hidden, machine-filled values to size instead of failing the visitor."""

    def clip(value):
        if not isinstance(value, str):
            return value
        return _CONTROL.sub("", value)[:length] or None

    return clip
