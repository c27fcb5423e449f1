"""The password policy: long enough, not common, not the person's own name or email."""

import pytest

from crm.services.passwords import PasswordRefused, check_policy


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-pass1", "at least 12"),
        ("password1234", "too common"),
        ("1qaz2wsx3edc", "too common"),
        ("Password123456!", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
        ("dana-park-is-here", "your name or email"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(app_ctx, password, why):
    with pytest.raises(PasswordRefused, match=why):
        check_policy(password, email="dana.park@example.org", name="Dana Park")


@pytest.mark.parametrize("password", ["correct horse battery staple", "Tide-Lantern-Quill-88"])
def test_long_uncommon_passwords_are_accepted(app_ctx, password):
    check_policy(password, email="dana.park@example.org", name="Dana Park")
