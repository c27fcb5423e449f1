"""The advocate's call queue: what is due now, and the Next call button."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.models import utcnow
from crm.models.enums import AuditAction
from crm.services import queue as call_queue
from crm.services.chat import chat_notice
from crm.services.queue.overview import BANDS
from crm.views.staff import ADVOCATES, audit_view, role_required, staff_blueprint

bp = staff_blueprint("queue", __name__, url_prefix="/advocate")


@bp.get("/queue")
@role_required(*ADVOCATES)
def queue():
    """Show the counts per band, the advocate's held call and one page of due calls."""
    now = utcnow()
    overview = call_queue.queue_overview(
        current_user,
        now,
        after=request.args.get("after"),
        limit=current_app.config["STAFF_PAGE_SIZE"],
    )
    return render_template(
        "advocate/queue.html",
        overview=overview,
        bands=BANDS,
        held=call_queue.held_claim(current_user.id, now),
        # The chats waiting, in counts: shown on render, kept current by chat_notice.js.
        chat_waiting=chat_notice(current_user.id, now),
    )


@bp.post("/queue/next")
@role_required(*ADVOCATES)
def next_call():
    """Claim the most urgent call this advocate may make now and open that contact."""
    now = utcnow()
    claim = call_queue.claim_next_call(current_user, now)
    if claim is None:
        upcoming = call_queue.next_callable_at(current_user, now)
        message = "Nothing is due right now."
        if upcoming is not None:
            message += f" The next call can be made from {upcoming:%Y-%m-%d %H:%M} UTC."
        flash(message)
        return redirect(url_for("queue.queue"))
    audit_view(
        AuditAction.call_claimed,
        contact_id=claim.contact_id,
        detail={"call_task_id": claim.call_task_id, "held_already": claim.held_already},
    )
    if claim.held_already:
        flash(f"This is still your call, until {claim.lease_expires_at:%H:%M} UTC.")
    else:
        flash(f"Your next call. It is yours until {claim.lease_expires_at:%H:%M} UTC.")
    return redirect(url_for("contacts.page", contact_id=claim.contact_id, _anchor="call"))
