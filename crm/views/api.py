"""The JSON API a client's server (the marketing site's) uses to submit the same three forms."""

import secrets
from functools import wraps

from flask import Blueprint, g, request
from werkzeug.datastructures import MultiDict

from crm.forms.public import PUBLIC_FORMS
from crm.models.enums import FormKind
from crm.services import api_keys, capture
from crm.views.api_schema import openapi_document
from crm.views.submit_guard import request_json, request_meta, submit_limits

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_MAX_IDEMPOTENCY_KEY = 190


def api_key_required(view):
    """Refuse with 401, before anything else is read or stored, a call without a live key."""

    @wraps(view)
    def checked(*args, **kwargs):
        header = request.headers.get("Authorization")
        api_key = api_keys.authenticate(header)
        if api_key is None:
            # RFC 6750: say which scheme is wanted, and that a token sent was not accepted.
            challenge = 'Bearer realm="api"' + (', error="invalid_token"' if header else "")
            errors = {"Authorization": ["Send a live API key as Authorization: Bearer KEY."]}
            body = {"error": "Unauthorized", "errors": errors}
            return body, 401, {"WWW-Authenticate": challenge}
        g.api_key_id = api_key.id
        return view(*args, **kwargs)

    return checked


@bp.get("/openapi.json")
def openapi():
    """Describe the API, generated from the same forms that validate it."""
    return openapi_document()


@bp.post("/submissions/<slug>")
@api_key_required
@submit_limits
def create_submission(slug: str):
    """Validate and store one submit; 201 with its id, 422 with per-field errors.

    A repeated Idempotency-Key answers 200 with the stored id when the body is the same and
    409 when it is not.
    """
    kind = FormKind.from_value(slug)
    if kind not in PUBLIC_FORMS:
        # A chat is started on the chat pages, never through the API.
        return {"error": "Not Found", "forms": [kind.value for kind in PUBLIC_FORMS]}, 404
    payload = request_json()
    if not isinstance(payload, dict):
        return _unprocessable({"_body": ["Send a JSON object with the form's fields."]})
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= _MAX_IDEMPOTENCY_KEY and key.isprintable()):
        return _unprocessable({"Idempotency-Key": ["Use a printable key of up to 190 characters."]})

    form = PUBLIC_FORMS[kind](formdata=_as_formdata(payload), meta={"csrf": False})
    meta = request_meta(
        payload.get("page_url") if isinstance(payload.get("page_url"), str) else None
    )
    if form.website.data:
        capture.record_suspected_spam(kind, "honeypot", {"fields": str(payload)[:2000]}, meta)
        return _received(secrets.token_hex(16), kind), 201
    if not form.validate():
        return _unprocessable(form.errors)
    # Scoped per API key: two clients may pick the same Idempotency-Key for different leads.
    scoped_key = f"api:{g.api_key_id}:{key}" if key else None
    result = capture.submit_lead(form.to_lead(), meta, scoped_key)
    if not result.replayed:
        return _received(result.submission_public_id, kind), 201
    if result.conflicting:
        message = "Already used for a submission with other answers; send those with a new key."
        return {"error": "Conflict", "errors": {"Idempotency-Key": [message]}}, 409
    return _received(result.submission_public_id, kind), 200


def _received(public_id: str, kind: FormKind) -> dict:
    return {"id": public_id, "form": kind.value, "status": "received"}


def _unprocessable(errors: dict):
    return {"error": "Unprocessable Entity", "errors": errors}, 422


def _as_formdata(payload: dict) -> MultiDict:
    """Turn JSON values into what a browser would have posted for the same answers."""
    items = []
    for name, value in payload.items():
        if not isinstance(name, str):
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item is None or item is False:
                continue
            items.append((name, "y" if item is True else str(item)))
    return MultiDict(items)
