"""Rate limits on submits per IP, email and phone: one Redis round trip per accepted submit.

Each counter is a fixed window (it starts at its first count and lasts the limit's
period, as Flask-Limiter's default strategy). `acquire` counts a submit on all of its
counters at once, or on none when one is full, in one Lua script; `release` takes the
count back when the submit was not stored (a visitor fixing a typo is never limited).
Keys are HMACs of the values, keyed by SECRET_KEY: Redis holds no email, phone or IP.
When Redis does not answer, the counts go to this process's memory for a while, so a
visitor is never refused because Redis is. Sign-in counters ask for the opposite
(`fail_closed`): see crm/services/login_throttle.py.
"""

import hashlib
import hmac
import logging
import threading
import time
from dataclasses import dataclass
from functools import cache

import redis
from flask import Flask, current_app
from limits import parse
from limits.storage import MemoryStorage

log = logging.getLogger(__name__)

# The namespace Flask-Limiter used for them, kept so that counts survive the upgrade.
_REDIS_PREFIX = "LIMITS:LIMITER"
_RETRY_REDIS_AFTER = 5.0  # seconds on memory after a Redis error, then Redis again

# KEYS: the counters; ARGV: limit and window seconds of each, in order. Returns 0 when
# all were counted, else the 1-based index of the full one (and nothing stays counted).
_ACQUIRE = """
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[2 * i]) end
  if count > tonumber(ARGV[2 * i - 1]) then
    for j = 1, i do redis.call('DECR', KEYS[j]) end
    return i
  end
end
return 0
"""
# Only counters that still exist: one that expired meanwhile must not come back at -1.
_RELEASE = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
return 0
"""


class StorageUnavailable(Exception):
    """Redis is configured but does not answer, and the caller would rather refuse than guess."""


@dataclass(frozen=True)
class Counter:
    """One limit on one value: `scope` names it (submit-ip, submit-email, submit-phone)."""

    scope: str
    key: str
    limit: int
    window_seconds: int


class _Storage:
    """Redis when configured and answering, else a per-process fallback in memory."""

    def __init__(self, app: Flask) -> None:
        uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
        self.redis = None
        if uri.startswith(("redis://", "rediss://", "unix://")):
            options = app.config.get("RATELIMIT_STORAGE_OPTIONS", {})
            self.redis = redis.Redis.from_url(uri, **options)
            self.acquire_script = self.redis.register_script(_ACQUIRE)
            self.release_script = self.redis.register_script(_RELEASE)
        self.memory = MemoryStorage()
        self.memory_lock = threading.Lock()
        self.redis_down_until = 0.0

    def use_redis(self) -> bool:
        return self.redis is not None and time.monotonic() >= self.redis_down_until

    def redis_failed(self, error: Exception) -> None:
        # The error class only: a message could carry a key or an address.
        log.warning("rate-limit storage unavailable (%s); counting in memory", type(error).__name__)
        self.redis_down_until = time.monotonic() + _RETRY_REDIS_AFTER


def counter(scope: str, value: str, limit_text: str) -> Counter:
    """The counter of `value` for a limit like "30/hour", keyed by an HMAC of the value."""
    item = _parse(limit_text)
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    key = f"{_REDIS_PREFIX}/{prefix}/{scope}/{digest}/{item.amount}/{item.multiples}"
    return Counter(scope, key, item.amount, item.get_expiry())


def acquire(counters: list[Counter], fail_closed: bool = False) -> Counter | None:
    """Count one submit on every counter, or on none: return the full one, if any.

    With `fail_closed`, a configured Redis that does not answer raises StorageUnavailable
    instead of counting in this process's memory (nothing is counted then).
    """
    if not counters:
        return None
    storage = _storage()
    if storage.use_redis():
        args = [value for c in counters for value in (c.limit, c.window_seconds)]
        try:
            full = int(storage.acquire_script(keys=[c.key for c in counters], args=args))
        except redis.RedisError as error:
            storage.redis_failed(error)
        else:
            return counters[full - 1] if full else None
    if fail_closed and storage.redis is not None:
        raise StorageUnavailable
    with storage.memory_lock:
        for index, c in enumerate(counters):
            if storage.memory.incr(c.key, c.window_seconds) > c.limit:
                for taken in counters[: index + 1]:
                    storage.memory.decr(taken.key)
                return c
    return None


def release(counters: list[Counter]) -> None:
    """Take back the count of a submit that was not stored."""
    if not counters:
        return
    storage = _storage()
    if storage.use_redis():
        try:
            storage.release_script(keys=[c.key for c in counters])
            return
        except redis.RedisError as error:
            storage.redis_failed(error)
    with storage.memory_lock:
        for c in counters:
            if storage.memory.get(c.key):
                storage.memory.decr(c.key)


def reset() -> None:
    """Forget every count of the current app, in Redis and in memory (tests use it)."""
    storage = _storage()
    if storage.redis is not None:
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
        keys = list(storage.redis.scan_iter(match=f"{_REDIS_PREFIX}/{prefix}/*", count=1000))
        if keys:
            storage.redis.delete(*keys)
    with storage.memory_lock:
        storage.memory.reset()


@cache
def _parse(limit_text: str):
    """The limit item for a text like "30/hour" (parsed once per text, not per submit)."""
    return parse(limit_text)


def _storage() -> _Storage:
    """The app's storage, made on first use (the Redis client connects lazily)."""
    app = current_app._get_current_object()
    found = app.extensions.get("submit_limits")
    # setdefault: when two threads race to create it, both use the same one.
    return found or app.extensions.setdefault("submit_limits", _Storage(app))
