"""Sealing free text: authenticated, bound to its column, readable under every listed key."""

import pytest

from crm.crypto import (
    KeysMisconfigured,
    UnreadableValue,
    is_sealed,
    key_id_of,
    new_key_entry,
    parse_keys,
)

OLD, NEW = new_key_entry("old"), new_key_entry("new")


def test_a_sealed_value_opens_to_the_same_text_and_hides_it():
    keyring = parse_keys(OLD)
    text = "Père diagnosed — pleural, stage III 🙏\nline two"

    sealed = keyring.seal(text, "notes.body")

    assert is_sealed(sealed) and key_id_of(sealed) == "old"
    assert "diagnosed" not in sealed and "pleural" not in sealed
    assert keyring.open(sealed, "notes.body") == text
    assert keyring.seal(text, "notes.body") != sealed  # a fresh nonce each time


def test_a_value_moved_to_another_column_does_not_open():
    keyring = parse_keys(OLD)
    sealed = keyring.seal("call me after 5", "calls.note")

    with pytest.raises(UnreadableValue):
        keyring.open(sealed, "notes.body")


# (The last character is left alone: some of its bits are base64 padding.)
@pytest.mark.parametrize("position", [10, 20, -3])
def test_a_changed_byte_is_refused(position):
    keyring = parse_keys(OLD)
    sealed = keyring.seal("call me after 5", "calls.note")
    characters = list(sealed)
    characters[position] = "A" if characters[position] != "A" else "B"

    with pytest.raises(UnreadableValue):
        keyring.open("".join(characters), "calls.note")


def test_old_values_open_after_a_new_key_comes_first():
    sealed_before = parse_keys(OLD).seal("before", "notes.body")
    rotated = parse_keys(f"{NEW},{OLD}")

    assert rotated.open(sealed_before, "notes.body") == "before"
    assert key_id_of(rotated.seal("after", "notes.body")) == "new"


def test_a_value_under_a_key_no_longer_listed_names_the_key():
    sealed = parse_keys(OLD).seal("before", "notes.body")

    with pytest.raises(KeysMisconfigured, match="'old'"):
        parse_keys(NEW).open(sealed, "notes.body")


@pytest.mark.parametrize(
    "setting, says",
    [
        ("", "no key"),
        ("k1=c2hvcnQ", "32 bytes"),
        ("k1=!!!!", "base64"),
        ("bad id=" + "A" * 43, "id=key"),
        (f"{OLD},{OLD}", "twice"),
    ],
)
def test_a_malformed_key_setting_is_refused_with_a_reason(setting, says):
    with pytest.raises(KeysMisconfigured, match=says):
        parse_keys(setting)
