"""Checks every public submit passes before it may become a lead: bots, rate limits, meta."""

import ipaddress
import re
from functools import wraps

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from crm.services import rate_limits
from crm.services.form_tokens import FormToken
from crm.services.leads import RequestMeta

_NOT_DIGITS = re.compile(r"\D")


def client_address() -> str | None:
    """The visitor's address: the peer (the real client behind trusted proxies), or, on the
    JSON API, the `visitor_ip` its client's server forwards for the visitor it speaks for."""
    if g.get("api_key_id") is not None:
        payload = request_json()
        forwarded = payload.get("visitor_ip") if isinstance(payload, dict) else None
        if isinstance(forwarded, str):
            try:
                return str(ipaddress.ip_address(forwarded.strip()))
            except ValueError:
                pass
    return request.remote_addr


def request_meta(page_url: str | None = None) -> RequestMeta:
    """Where this submit came from, as stored on the submission and consent records."""
    return RequestMeta(
        ip_address=(client_address() or "")[:45] or None,
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
        # Answered with 413 by the view, which the limits then do not count.
        return ""
    value = source.get(name) if hasattr(source, "get") else None
    return str(value)[:254].strip().lower() if value else ""


def _limit_counters() -> list[rate_limits.Counter]:
    """The counters this submit counts on: its IP (and API key), its email and phone if given."""
    config = current_app.config
    per_contact = config["SUBMIT_LIMIT_PER_CONTACT"]
    # The IP is hashed too: under the GDPR an IP address is personal data, and the
    # counter needs only to tell one address from another, never to show it.
    address = client_address() or ""
    counters = []
    api_key_id = g.get("api_key_id")
    if api_key_id is not None:
        # Every API call comes from the client's server: its own budget, not one visitor's.
        limit = config["SUBMIT_LIMIT_PER_API_KEY"]
        counters.append(rate_limits.counter("submit-api-key", str(api_key_id), limit))
    if api_key_id is None or address != request.remote_addr:
        counters.append(rate_limits.counter("submit-ip", address, config["SUBMIT_LIMIT_PER_IP"]))
    if email := _submitted("email"):
        counters.append(rate_limits.counter("submit-email", email, per_contact))
    # Digits only, so "(555) 201-4567" and "555.201.4567" count as the same person.
    if phone := _NOT_DIGITS.sub("", _submitted("phone"))[-10:]:
        counters.append(rate_limits.counter("submit-phone", phone, per_contact))
    return counters


def _accepted(response) -> bool:
    # Only submits that were stored count: a visitor fixing typos is never limited.
    return response.status_code in (201, 302, 303)


class SubmitLimitExceeded(TooManyRequests):
    """Too many accepted submits from one IP, email, phone or API key in the limit's window."""

    def __init__(self, scope: str) -> None:
        super().__init__(description=f"Too many submits ({scope})")
        self.scope = scope


def submit_limits(view):
    """Apply the per-IP, per-email and per-phone submit limits to a view's POSTs.

    A submit is counted before the view runs (one Redis round trip for all three) and
    the count is taken back unless the view stored it.
    """

    @wraps(view)
    def limited(*args, **kwargs):
        if request.method != "POST" or not current_app.config["RATELIMIT_ENABLED"]:
            return view(*args, **kwargs)
        counters = _limit_counters()
        full = rate_limits.acquire(counters)
        if full is not None:
            raise SubmitLimitExceeded(full.scope)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            rate_limits.release(counters)
            raise
        if not _accepted(response):
            rate_limits.release(counters)
        return response

    return limited
