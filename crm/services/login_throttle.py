"""Slow password guessing down without letting an attacker lock a real advocate out.

Every sign-in attempt counts on two counters (crm/services/rate_limits.py, the `limits`
library's fixed windows, in Redis): one per client address, generous because a whole office
signs in from one address; and one per account. The per-account counter is split: attempts
from a browser that has signed in to that account before (it holds a signed "known device"
cookie) count on that device's own counter, so a flood of guesses from elsewhere fills the
anonymous counter and not the advocate's own (OWASP's device-cookie scheme). A successful
sign-in takes its count back.

While the counters' Redis does not answer, sign-in is refused (fails closed), unlike a submit,
which counts in memory instead: each web process's memory is a counter of its own, so an
attacker spreading guesses over many processes (or over the restarts an outage brings) would
get many times the limit on the one door where guessing pays. A visitor's request must never
be lost to an outage; a staff member can wait a minute or phone a colleague.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature

from crm.services import rate_limits
from crm.services.signing import serializer

DEVICE_COOKIE = "crm_known_device"
_DEVICE_SALT = "known-device"


@dataclass(frozen=True)
class Attempt:
    counters: list[rate_limits.Counter]
    full: rate_limits.Counter | None
    # The counters could not be read: the attempt is refused, and counted nowhere.
    storage_unavailable: bool = False

    @property
    def allowed(self) -> bool:
        return self.full is None and not self.storage_unavailable

    @property
    def retry_after_seconds(self) -> int:
        return self.full.window_seconds if self.full else 0


def begin(email: str, ip_address: str | None, device_cookie: str | None) -> Attempt:
    """Count one attempt, or refuse it when a counter is full (nothing is counted then)."""
    config = current_app.config
    account = _account_key(email)
    device = known_device(device_cookie, account)
    counters = [rate_limits.counter("login-ip", ip_address or "-", config["LOGIN_LIMIT_PER_IP"])]
    if device:
        scope, value, limit = "login-device", f"{account}:{device}", "LOGIN_LIMIT_PER_DEVICE"
    else:
        scope, value, limit = "login-account", account, "LOGIN_LIMIT_PER_ACCOUNT"
    counters.append(rate_limits.counter(scope, value, config[limit]))
    try:
        return Attempt(counters, rate_limits.acquire(counters, fail_closed=True))
    except rate_limits.StorageUnavailable:
        return Attempt([], None, storage_unavailable=True)


def succeeded(attempt: Attempt) -> None:
    """A right password: its attempt does not count against anyone."""
    rate_limits.release(attempt.counters)


def device_cookie_for(email: str) -> str:
    """A signed cookie value naming this browser as one the account has signed in from."""
    return serializer(_DEVICE_SALT).dumps([_account_key(email), secrets.token_hex(8)])


def known_device(cookie: str | None, account: str) -> str | None:
    """The device id in a cookie made for this account, or None."""
    if not cookie:
        return None
    try:
        cookie_account, device = serializer(_DEVICE_SALT).loads(cookie)
    except (BadSignature, ValueError, TypeError):
        return None
    return device if hmac.compare_digest(str(cookie_account), account) else None


def _account_key(email: str) -> str:
    # Only a keyed hash of the email goes into the cookie and into Redis.
    secret = current_app.config["SECRET_KEY"].encode()
    normalised = email.strip().lower().encode()
    return hmac.new(secret, normalised, hashlib.sha256).hexdigest()[:24]
