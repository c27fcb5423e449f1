"""Signed one-time tokens carried by each rendered public form.

A token holds a random nonce (the same nonce twice is one submission) and the render
time (a submit within seconds of rendering is a bot).
"""

import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from crm.services.signing import serializer

_SALT = "public-form-token"


@dataclass(frozen=True)
class FormToken:
    nonce: str
    rendered_at: float

    def age(self, now: float | None = None) -> float:
        return (now if now is not None else time.time()) - self.rendered_at


def _serializer() -> URLSafeSerializer:
    return serializer(_SALT)


def issue_token(nonce: str | None = None, rendered_at: float | None = None) -> str:
    """Return a signed token for a freshly rendered form."""
    payload = [nonce or secrets.token_urlsafe(16), rendered_at or time.time()]
    return _serializer().dumps(payload)


def read_token(raw: str | None) -> FormToken | None:
    """Return the token's contents, or None if it is missing or forged."""
    if not raw or len(raw) > 200:
        return None
    try:
        nonce, rendered_at = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(nonce, str) or not isinstance(rendered_at, int | float):
        return None
    return FormToken(nonce, float(rendered_at))
