"""The floor for a callback submit: its seven rows in one transaction, in plain SQL.

What a hand-written endpoint with no ORM, no validation, no look-ups, no CSRF and no rate
limits does to store what the real /callback submit stores for the benchmark's visitor
(a new contact who gave a phone, no email): one contact, one submission, two consent
records (calls granted, email not), the call task and two timeline events (`created`,
`callback_due`). Without an email a callback writes no outbox rows (followups._emails),
so neither does this. Five statements (the two consents and the two events one INSERT
each, as the ORM batches them), BEGIN and COMMIT; the same engine options as the app.
Served by `gunicorn bench.hand_app:app`; bench/run.py loads it like the bare app.
"""

import hashlib
import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, redirect, request

from bench.bare_app import engine

# The hand floor's submissions are told apart from the real app's by this key prefix.
KEY_PREFIX = "hand:"
_ATTRIBUTION = "utm_source, utm_medium, utm_campaign, utm_term, utm_content, gclid, "
_ATTRIBUTION += "landing_page, referrer"
_ATTRIBUTION_VALUES = ":utm_source, :utm_medium, :utm_campaign, :utm_term, :utm_content, "
_ATTRIBUTION_VALUES += ":gclid, :landing_page, :referrer"
_CONSENT_TEXT = {  # as long as the real disclosures; their text is not what is measured
    "calls_texts": ("calls-2026-11-01", "I agree that a patient advocate may call me. " * 8),
    "email": ("email-2026-11-01", "I agree to receive emails. " * 7),
}

_CONTACT = sa.text(
    f"""INSERT INTO contacts (first_name, last_name, phone_e164, zip_code, is_veteran, stage,
    submission_count, last_submitted_at, created_at, updated_at, {_ATTRIBUTION})
    VALUES (:first_name, :last_name, :phone, :zip, false, 'new', 1, :now, :now, :now,
    {_ATTRIBUTION_VALUES}) RETURNING id"""
)
_SUBMISSION = sa.text(
    f"""INSERT INTO submissions (public_id, form, contact_id, idempotency_key, content_digest,
    is_reengagement, fields, ip_address, user_agent, page_url, created_at, {_ATTRIBUTION})
    VALUES (:public_id, 'callback', :contact_id, :key, :digest, false, :fields, :ip, :agent,
    :page_url, :now, {_ATTRIBUTION_VALUES}) RETURNING id"""
)
_CONSENTS = sa.text(
    """INSERT INTO consent_records (contact_id, submission_id, channel, granted, text,
    text_version, recorded_at, ip_address, user_agent, page_url, form) VALUES
    (:contact_id, :submission_id, 'calls_texts', :calls, :calls_text, :calls_version, :now,
     :ip, :agent, :page_url, 'callback'),
    (:contact_id, :submission_id, 'email', :email, :email_text, :email_version, :now,
     :ip, :agent, :page_url, 'callback')"""
)
_CALL_TASK = sa.text(
    """INSERT INTO call_tasks (contact_id, submission_id, best_time, due_at, status, attempts,
    created_at) VALUES (:contact_id, :submission_id, :best_time, :now, 'open', 0, :now)
    RETURNING id"""
)
_EVENTS = sa.text(
    """INSERT INTO timeline_events (contact_id, kind, submission_id, detail, created_at) VALUES
    (:contact_id, 'created', :submission_id, :created_detail, :now),
    (:contact_id, 'callback_due', :submission_id, :due_detail, :now)"""
)

app = Flask(__name__)


@app.get("/")
def ready():
    """Answer the readiness probe without touching the database."""
    return "ok"


@app.post("/submit")
def submit():
    """Write the seven rows of a new callback lead in one transaction and redirect."""
    form = request.form
    now = datetime.now(UTC)
    fields = {
        "first_name": form.get("first_name"),
        "last_name": form.get("last_name", ""),
        "phone": form.get("phone"),
        "zip": form.get("zip"),
        "best_time": form.get("best_time") or "asap",
        "message": form.get("message"),
    }
    fields_json = json.dumps(fields, separators=(",", ":"))
    row = {
        **{name: form.get(name) or None for name in _ATTRIBUTION.replace(",", " ").split()},
        "first_name": fields["first_name"],
        "last_name": fields["last_name"],
        "phone": fields["phone"],
        "zip": fields["zip"],
        "best_time": fields["best_time"],
        "now": now,
        "public_id": uuid.uuid4().hex,
        "key": KEY_PREFIX + uuid.uuid4().hex,
        "digest": hashlib.sha256(fields_json.encode()).hexdigest(),
        "fields": fields_json,
        "ip": (request.remote_addr or "")[:45] or None,
        "agent": (request.user_agent.string or "")[:500] or None,
        "page_url": (form.get("page_url") or request.url)[:1000],
        "calls": bool(form.get("consent_calls")),
        "email": bool(form.get("consent_email")),
        "calls_version": _CONSENT_TEXT["calls_texts"][0],
        "calls_text": _CONSENT_TEXT["calls_texts"][1],
        "email_version": _CONSENT_TEXT["email"][0],
        "email_text": _CONSENT_TEXT["email"][1],
    }
    with engine().begin() as connection:
        row["contact_id"] = connection.scalar(_CONTACT, row)
        row["submission_id"] = connection.scalar(_SUBMISSION, row)
        connection.execute(_CONSENTS, row)
        call_task_id = connection.scalar(_CALL_TASK, row)
        row["created_detail"] = json.dumps({"form": "callback"})
        row["due_detail"] = json.dumps({"call_task_id": call_task_id, "due_at": now.isoformat()})
        connection.execute(_EVENTS, row)
    return redirect("/", code=303)
