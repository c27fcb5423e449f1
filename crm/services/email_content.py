"""What each outbox email says: subject, both bodies, headers, rendered from templates."""

import sqlalchemy as sa
from flask import current_app, render_template, url_for

from crm.extensions import db
from crm.models import OutboxMessage, Specialist, User
from crm.models.enums import BestTime, OutboxKind
from crm.services import signing
from crm.services.callback_times import describe_callback_promise
from crm.services.guide_pdf import build_guide_pdf
from crm.services.mail import OutgoingEmail
from crm.services.sequences import STAFF_ALERTS, is_commercial

GUIDE_LINK_DAYS = 30
_GUIDE_SALT = "guide-download"
_UNSUBSCRIBE_SALT = "unsubscribe"

SUBJECTS = {
    OutboxKind.guide_email: "Your free mesothelioma guide",
    OutboxKind.callback_confirmation: "A patient advocate will call you",
    OutboxKind.specialist_confirmation: "We are finding a mesothelioma specialist for you",
    OutboxKind.guide_check_in: "Did your guide arrive?",
    OutboxKind.specialist_offer: "Find a mesothelioma specialist near you",
    OutboxKind.callback_escalation: "Missed callback target",
    OutboxKind.undelivered_digest: "Emails that could not be delivered",
    OutboxKind.specialist_match: "Mesothelioma specialists for you",
    OutboxKind.tried_to_reach: "We tried to reach you",
}


class NoRecipientError(ValueError):
    """The row has no address to send to (a phone-only lead, a manager no longer active)."""


def message_id_for(message: OutboxMessage) -> str:
    """The same Message-ID for every attempt at one row, so a redelivery is recognisable."""
    domain = current_app.config["MAIL_FROM"].rsplit("@", 1)[-1].strip("> ")
    return f"<outbox-{message.id}.{message.kind.value}@{domain}>"


def public_url(endpoint: str, **values) -> str:
    """An absolute link for an email, built outside any web request."""
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


def unsubscribe_token(message_id: int) -> str:
    """A signed link key naming the email it came in (an id, so no address shows in URLs)."""
    return signing.serializer(_UNSUBSCRIBE_SALT).dumps(message_id)


def unsubscribe_address(token: str) -> str | None:
    """The address to suppress for a link from one of our emails, or None for a bad link."""
    try:
        message_id = signing.serializer(_UNSUBSCRIBE_SALT).loads(token)
    except Exception:  # any tampering or garbage: not a valid link
        return None
    message = db.session.get(OutboxMessage, message_id) if isinstance(message_id, int) else None
    return recipient(message)[0] if message is not None else None


def guide_token(submission_public_id: str) -> str:
    return signing.timed_serializer(_GUIDE_SALT).dumps(submission_public_id)


def read_guide_token(token: str) -> str | None:
    try:
        public_id = signing.timed_serializer(_GUIDE_SALT).loads(
            token, max_age=GUIDE_LINK_DAYS * 24 * 3600
        )
    except Exception:  # expired, tampered or garbage
        return None
    return public_id if isinstance(public_id, str) else None


def recipient(message: OutboxMessage) -> tuple[str | None, str]:
    """The address and display name this row's email goes to."""
    if message.kind in STAFF_ALERTS:
        user = db.session.get(User, message.payload.get("user_id"))
        return (user.email, user.name) if user is not None and user.active else (None, "")
    # What this submission sent, never the contact record it matched (DESIGN.md rule 7).
    fields = message.submission.fields if message.submission is not None else {}
    name = " ".join(filter(None, (fields.get("first_name"), fields.get("last_name"))))
    return fields.get("email"), name


def compose(message: OutboxMessage) -> OutgoingEmail:
    """Render the email for one outbox row."""
    to_address, to_name = recipient(message)
    if not to_address:
        raise NoRecipientError("no address to send this email to")
    context = _context(message)
    headers = {}
    if is_commercial(message.kind):
        unsubscribe_url = public_url("email_links.unsubscribe", token=unsubscribe_token(message.id))
        context["unsubscribe_url"] = unsubscribe_url
        # RFC 8058 one-click: mail clients POST to this URL, no cookies, no confirmation page.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    template = f"email/{message.kind.value}"
    attachments = []
    if (
        message.kind == OutboxKind.guide_email
        and current_app.config["GUIDE_DELIVERY"] == "attachment"
    ):
        pdf = build_guide_pdf(context["first_name"])
        attachments.append(("mesothelioma-guide.pdf", pdf, "application/pdf"))
    return OutgoingEmail(
        to_address=to_address,
        to_name=to_name,
        subject=SUBJECTS[message.kind],
        text=render_template(f"{template}.txt", **context),
        html=render_template(f"{template}.html", **context),
        message_id=message_id_for(message),
        headers=headers,
        attachments=attachments,
    )


def _context(message: OutboxMessage) -> dict:
    config = current_app.config
    context = {
        "org_name": config["ORG_NAME"],
        "org_phone": config["ORG_PHONE"],
        "org_postal_address": config["ORG_POSTAL_ADDRESS"],
        "unsubscribe_url": None,
    }
    if message.kind == OutboxKind.callback_escalation:
        return {
            **context,
            **message.payload,
            "contact_id": message.contact_id,
            "queue_url": public_url("public.home"),
        }
    if message.kind == OutboxKind.undelivered_digest:
        return {**context, **message.payload}
    submission = message.submission
    context["first_name"] = submission.fields.get("first_name")
    if message.kind in (OutboxKind.guide_email, OutboxKind.guide_check_in):
        context["guide_url"] = public_url(
            "email_links.download_guide", token=guide_token(submission.public_id)
        )
        context["guide_link_days"] = GUIDE_LINK_DAYS
        context["printed_guide"] = bool(submission.fields.get("printed_guide"))
        context["callback_url"] = public_url("public.callback")
    if message.kind == OutboxKind.callback_confirmation:
        best_time = BestTime.from_value(submission.fields.get("best_time")) or BestTime.asap
        # The promise made on the thank-you page, not one recomputed at send time.
        context["promise"] = describe_callback_promise(
            best_time, submission.fields.get("time_zone"), submission.created_at
        )
    if message.kind in (OutboxKind.specialist_offer, OutboxKind.tried_to_reach):
        context["specialist_url"] = public_url("public.specialist_match")
        context["callback_url"] = public_url("public.callback")
    if message.kind == OutboxKind.specialist_match:
        context["specialists"] = _specialists(message.payload.get("specialist_ids") or [])
    return context


def _specialists(ids: list[int]) -> list[Specialist]:
    """The directory entries an advocate chose, in the order they were chosen."""
    found = {
        s.id: s for s in db.session.scalars(sa.select(Specialist).where(Specialist.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found]
