"""What visitors type, normalised: phone numbers, ZIP codes and email addresses."""

import pytest

from crm.services.lookups import (
    InvalidInput,
    lookup_zip,
    normalise_email,
    normalise_us_phone,
    time_zone_for_phone,
)


@pytest.mark.parametrize(
    "typed",
    [
        "(617) 555-0134",
        "617-555-0134",
        "617.555.0134",
        "617 555 0134",
        "6175550134",
        "1-617-555-0134",
        "+1 617 555 0134",
        "+16175550134",
        "  (617) 555-0134  ",
    ],
)
def test_common_us_phone_formats_become_one_e164_number(typed):
    assert normalise_us_phone(typed) == "+16175550134"


@pytest.mark.parametrize("typed", ["123-456-7890", "555-555-5555", "617-555-013", "12"])
def test_numbers_that_cannot_exist_are_rejected_with_a_hint(typed):
    with pytest.raises(InvalidInput, match="not a valid number"):
        normalise_us_phone(typed)


@pytest.mark.parametrize("typed", ["call me", "", "☎"])
def test_text_that_is_not_a_number_asks_for_a_phone_number(typed):
    with pytest.raises(InvalidInput, match="Please enter a phone number"):
        normalise_us_phone(typed)


@pytest.mark.parametrize(
    ("zip_code", "state", "zone"),
    [
        ("02110", "MA", "America/New_York"),
        ("60601", "IL", "America/Chicago"),
        ("94103", "CA", "America/Los_Angeles"),
        ("99501", "AK", "America/Anchorage"),
        ("96813", "HI", "Pacific/Honolulu"),
    ],
)
def test_zip_code_gives_state_and_time_zone(zip_code, state, zone):
    info = lookup_zip(zip_code)

    assert (info.zip_code, info.state, info.time_zone) == (zip_code, state, zone)


@pytest.mark.parametrize("typed", ["02110-1234", " 02110 ", "02110-0000"])
def test_zip_plus_four_and_spaces_are_accepted_as_the_five_digit_zip(typed):
    assert lookup_zip(typed).zip_code == "02110"


@pytest.mark.parametrize("typed", ["00000", "99999"])
def test_zip_codes_that_do_not_exist_are_rejected(typed):
    with pytest.raises(InvalidInput, match="could not find this ZIP code"):
        lookup_zip(typed)


@pytest.mark.parametrize(
    "typed",
    # The last one is 02110 in full-width digits, which str.isdigit() accepts.
    [
        "",
        "1234",
        "021101",
        "021101234",
        "0211O",
        "02110-12",
        "02110_1234",
        "\uff10\uff12\uff11\uff11\uff10",
    ],
)
def test_anything_but_five_digits_asks_for_a_five_digit_zip(typed):
    with pytest.raises(InvalidInput, match="5-digit US ZIP code"):
        lookup_zip(typed)


@pytest.mark.parametrize(
    "typed",
    ["Maria.Lopez@Example.com", "  maria.lopez@example.com ", "MARIA.LOPEZ@EXAMPLE.COM"],
)
def test_email_is_stored_lower_cased_and_trimmed(typed):
    assert normalise_email(typed) == "maria.lopez@example.com"


@pytest.mark.parametrize(
    "typed", ["", "maria.lopez@", "@example.com", "maria lopez@example.com", "maria@@example.com"]
)
def test_malformed_email_is_rejected(typed):
    with pytest.raises(InvalidInput):
        normalise_email(typed)


@pytest.mark.parametrize(
    ("e164", "zone"),
    [
        ("+16175550134", "America/New_York"),
        ("+13125550187", "America/Chicago"),
        ("+13035550100", "America/Denver"),
        ("+18085550100", "Pacific/Honolulu"),
    ],
)
def test_phone_area_code_gives_the_time_zone_when_there_is_no_zip(e164, zone):
    assert time_zone_for_phone(e164) == zone


@pytest.mark.parametrize("e164", ["+18005550199", "+19075550100"])
def test_phone_spanning_several_zones_gives_no_guess(e164):
    # Toll-free numbers and Alaska's area code span several zones: better no guess than a wrong one.
    assert time_zone_for_phone(e164) is None
