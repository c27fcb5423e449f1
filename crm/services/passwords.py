"""Staff passwords: argon2id hashes, a length and common-password policy, transparent rehash.

Hashes made before argon2 (werkzeug's scrypt or pbkdf2) still verify, and are replaced by an
argon2id hash at the next successful sign-in; so are argon2 hashes made with weaker settings.
"""

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from werkzeug.security import check_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 256


class PasswordRefused(ValueError):
    """The password breaks the policy; the message says why, for the person choosing it."""


def hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher(
        config["PASSWORD_HASH_TIME_COST"],
        config["PASSWORD_HASH_MEMORY_KIB"],
        config["PASSWORD_HASH_PARALLELISM"],
    )


@cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(stored_hash: str, password: str) -> bool:
    """True when the password matches the stored hash, whichever scheme made it."""
    if stored_hash.startswith("$argon2"):
        try:
            return hasher().verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False
    return check_password_hash(stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    return not stored_hash.startswith("$argon2id$") or hasher().check_needs_rehash(stored_hash)


def waste_equal_time(password: str) -> None:
    """Verify against a hash of nothing, so an unknown email takes as long as a wrong password."""
    verify(_dummy_hash(hasher()), password)


@cache
def _dummy_hash(hasher_: PasswordHasher) -> str:
    return hasher_.hash("no account has this password")


def check_policy(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse a short, common or personal password (NIST 800-63B), with a reason."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    # "password1234!" is "password" with decoration: guessers try those first.
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
    if lowered in common_passwords() or core in common_passwords() or len(set(lowered)) < 4:
        raise PasswordRefused("That password is too common; choose another.")
    personal = [part for part in re.split(r"[\W_]+", f"{email.split('@')[0]} {name}".lower())]
    if any(len(part) >= 4 and part in lowered for part in personal):
        raise PasswordRefused("Don't use your name or email in your password.")


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of the zxcvbn project's breach corpus."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])
