"""Checks every public submit passes before it may become a lead: bots, rate limits, meta."""

import re

from flask import current_app, request
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import RequestEntityTooLarge

from crm.extensions import limiter
from crm.services.form_tokens import FormToken
from crm.services.leads import RequestMeta

_NOT_DIGITS = re.compile(r"\D")


def request_meta(page_url: str | None = None) -> RequestMeta:
    """Where this submit came from, as stored on the submission and consent records."""
    return RequestMeta(
        ip_address=(request.remote_addr or "")[:45] or None,
        user_agent=(request.user_agent.string or "")[:500] or None,
        page_url=page_url or request.url,
    )


def bot_reason(honeypot: str | None, token: FormToken | None) -> str | None:
    """Say why a form submit looks automated, or None for a person."""
    if honeypot:
        return "honeypot"
    if token is None:
        return "bad_token"
    if token.age() < current_app.config["FORM_MIN_SECONDS"]:
        return "too_fast"
    return None


def token_expired(token: FormToken) -> bool:
    return token.age() > current_app.config["FORM_MAX_AGE_SECONDS"]


def request_json():
    """The JSON body, or None when it is absent, malformed or nested too deeply to parse."""
    try:
        return request.get_json(silent=True)
    except RecursionError:  # json raises it for deep nesting; silent=True does not catch it
        return None


def _submitted(name: str) -> str:
    try:
        source = request.form if request.form else (request_json() or {})
    except RequestEntityTooLarge:
        # Answered with 413 by the view; raising here would make the limiter believe its
        # storage is down and fall back to per-process memory.
        return ""
    value = source.get(name) if hasattr(source, "get") else None
    return str(value)[:254].strip().lower() if value else ""


def _email_key() -> str:
    return "email:" + _submitted("email")


def _phone_key() -> str:
    # Digits only, so "(555) 201-4567" and "555.201.4567" count as the same person.
    return "phone:" + _NOT_DIGITS.sub("", _submitted("phone"))[-10:]


def _accepted(response) -> bool:
    # Only submits that were stored count: a visitor fixing typos is never limited.
    return response.status_code in (201, 302, 303)


per_ip_limit = limiter.shared_limit(
    lambda: current_app.config["SUBMIT_LIMIT_PER_IP"],
    scope="submit-ip",
    key_func=get_remote_address,
    methods=["POST"],
    deduct_when=_accepted,
)
per_email_limit = limiter.shared_limit(
    lambda: current_app.config["SUBMIT_LIMIT_PER_CONTACT"],
    scope="submit-email",
    key_func=_email_key,
    methods=["POST"],
    deduct_when=_accepted,
    exempt_when=lambda: not _submitted("email"),
)
per_phone_limit = limiter.shared_limit(
    lambda: current_app.config["SUBMIT_LIMIT_PER_CONTACT"],
    scope="submit-phone",
    key_func=_phone_key,
    methods=["POST"],
    deduct_when=_accepted,
    exempt_when=lambda: not _submitted("phone"),
)


def submit_limits(view):
    """Apply the per-IP, per-email and per-phone submit limits to a view."""
    return per_ip_limit(per_email_limit(per_phone_limit(view)))
