"""The JSON API the marketing site uses to submit the same three forms."""

import secrets

from flask import Blueprint, current_app, request
from werkzeug.datastructures import MultiDict

from crm.forms.public import PUBLIC_FORMS
from crm.models.enums import FormKind
from crm.services import capture
from crm.views.api_schema import openapi_document
from crm.views.submit_guard import request_json, request_meta, submit_limits

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_MAX_IDEMPOTENCY_KEY = 190


@bp.after_request
def allow_listed_origins(response):
    """CORS for the origins in config only; every other site's browser is refused."""
    origin = request.headers.get("Origin")
    if origin and origin in current_app.config["CORS_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers.add("Vary", "Origin")
    return response


@bp.get("/openapi.json")
def openapi():
    """Describe the API, generated from the same forms that validate it."""
    return openapi_document()


@bp.post("/submissions/<slug>")
@submit_limits
def create_submission(slug: str):
    """Validate and store one submit; 201 with its id, 422 with per-field errors."""
    kind = FormKind.from_value(slug)
    if kind is None:
        return {"error": "Not Found", "forms": [kind.value for kind in FormKind]}, 404
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
    result = capture.submit_lead(form.to_lead(), meta, "api:" + key if key else None)
    status = 200 if result.replayed else 201
    return _received(result.submission_public_id, kind), status


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
