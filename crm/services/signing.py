"""Signed values in links and forms, verifiable across a SECRET_KEY rotation."""

from flask import current_app
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer


def _keys() -> list[str]:
    # itsdangerous signs with the last key and accepts any of them: links already emailed
    # (guide downloads, unsubscribes) keep working after the key is rotated.
    config = current_app.config
    return [*config.get("SECRET_KEY_FALLBACKS", []), config["SECRET_KEY"]]


def serializer(salt: str) -> URLSafeSerializer:
    """A serializer for values that never expire on their own."""
    return URLSafeSerializer(_keys(), salt=salt)


def timed_serializer(salt: str) -> URLSafeTimedSerializer:
    """A serializer whose values carry their signing time, for links that expire."""
    return URLSafeTimedSerializer(_keys(), salt=salt)
