"""Normalising what visitors type: email, US phone numbers, ZIP codes and their time zones."""

from dataclasses import dataclass
from functools import cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import timezone as phone_timezones

from crm.data import zip_table


class InvalidInput(ValueError):
    """A value a visitor typed that we cannot use; the message is shown at the field."""


@dataclass(frozen=True)
class ZipInfo:
    zip_code: str
    state: str
    time_zone: str | None


def normalise_email(raw: str) -> str:
    """Return the address in the one form used for storage and dedupe (lower-cased)."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidInput(str(error)) from error
    return result.normalized.lower()


def normalise_us_phone(raw: str) -> str:
    """Return the number in E.164, US by default; reject numbers that cannot exist."""
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException as error:
        raise InvalidInput("Please enter a phone number, for example (555) 201-4567.") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("This phone number is not a valid number. Please check the digits.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def time_zone_for_phone(e164: str) -> str | None:
    """Guess the time zone from the number when there is no ZIP code to go by."""
    zones = phone_timezones.time_zones_for_number(phonenumbers.parse(e164))
    usable = [zone for zone in zones if "/" in zone]
    return usable[0] if len(usable) == 1 else None


@cache
def _zip_index() -> dict[str, tuple[str, str | None]]:
    # The compact table shipped in crm/data (a few MB in memory), not the zipcodes
    # package, which keeps every field of every ZIP (~180 MB in every process).
    return zip_table.read(zip_table.TABLE_PATH.read_text())


def lookup_zip(raw: str) -> ZipInfo:
    """Return state and time zone for a US ZIP (ZIP+4 accepted)."""
    digits = raw.strip()
    if len(digits) == 10 and digits[5] == "-" and digits[6:].isdigit():
        digits = digits[:5]
    if len(digits) != 5 or not digits.isdigit() or not digits.isascii():
        raise InvalidInput("Please enter a 5-digit US ZIP code.")
    found = _zip_index().get(digits)
    if found is None:
        raise InvalidInput("We could not find this ZIP code. Please check it.")
    return ZipInfo(digits, *found)


def known_states() -> list[str]:
    """Every state and territory code that has ZIP codes, for the mailing-address form."""
    return sorted({state for state, _ in _zip_index().values()})


def warm_up() -> None:
    """Load the ZIP index at start-up rather than on the first visitor's request."""
    _zip_index()
