"""The call panel on the contact page, and logging a call from it."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_login import current_user

from crm.extensions import db
from crm.models import CallTask, Contact, Submission, utcnow
from crm.models.enums import AuditAction, CallOutcome, CallTaskStatus, FormKind, Role
from crm.services import calls
from crm.services.callback_times import contact_zone
from crm.views.staff import ADVOCATES, audit_view, role_required, staff_blueprint

bp = staff_blueprint("calls", __name__, url_prefix="/advocate/calls")

# The keys an advocate presses with the browser's accesskey modifier (Alt+Shift, Ctrl+Alt).
SHORTCUTS = {
    CallOutcome.reached: "r",
    CallOutcome.voicemail: "v",
    CallOutcome.no_answer: "n",
    CallOutcome.busy: "b",
    CallOutcome.wrong_number: "w",
    CallOutcome.call_back_at: "c",
    CallOutcome.do_not_call: "x",
    CallOutcome.deceased: "d",
}
# What to open with, by the form the person filled in.
SCRIPTS = {
    FormKind.guide: "Introduce yourself; you are following up on the free guide they asked for. "
    "Did it arrive? Does it answer their questions about the diagnosis?",
    FormKind.callback: "They asked for a call. Introduce yourself, thank them for reaching out and "
    "ask how you can help today.",
    FormKind.specialist_match: "They asked for a specialist. Confirm the diagnosis and where they "
    "live, and whether they can travel.",
}


@dataclass(frozen=True)
class CallPanel:
    task: CallTask
    phone: str
    script: str
    zone: str
    shortcuts: dict


def panel_for(contact: Contact, contact_ids: list[int], now: datetime) -> CallPanel | None:
    """The open call this user may log here: their claim, or any open one for a manager."""
    query = sa.select(CallTask).where(
        CallTask.contact_id.in_(contact_ids), CallTask.status == CallTaskStatus.open
    )
    if current_user.role != Role.manager:
        query = query.where(
            CallTask.claimed_by_user_id == current_user.id, CallTask.lease_expires_at > now
        )
    task = db.session.scalars(query.order_by(CallTask.due_at).limit(1)).first()
    if task is None or not contact.phone_e164:
        return None
    form = db.session.scalar(
        sa.select(Submission.form)
        .where(Submission.contact_id.in_(contact_ids))
        .order_by(Submission.id.desc())
        .limit(1)
    )
    return CallPanel(
        task=task,
        phone=contact.phone_e164,
        script=SCRIPTS.get(form, SCRIPTS[FormKind.callback]),
        zone=contact_zone(contact.time_zone).key,
        shortcuts=SHORTCUTS,
    )


@bp.post("/<int:task_id>")
@role_required(*ADVOCATES)
def log(task_id: int):
    """Log the call and set off its next step; back to the queue with what happens next."""
    now = utcnow()
    task = db.session.get(CallTask, task_id)
    if task is None:
        flash("Not done: no such call.")
        return redirect(url_for("queue.queue"))
    contact = db.session.get(Contact, task.contact_id)
    try:
        outcome = CallOutcome.from_value(request.form.get("outcome"))
        if outcome is None:
            raise calls.CallRefused("Choose what happened on the call.")
        result = calls.log_call(
            task_id,
            current_user,
            outcome,
            duration_seconds=_minutes(request.form.get("minutes")) * 60,
            note=request.form.get("note"),
            call_back_at=_local_time(request.form.get("call_back_at"), contact.time_zone),
            now=now,
            ip_address=request.remote_addr,
        )
    except calls.CallRefused as refused:
        db.session.rollback()
        flash(f"Not logged: {refused}")
        return redirect(url_for("contacts.page", contact_id=contact.id, _anchor="call"))
    audit_view(
        AuditAction.call_logged,
        contact_id=result.contact_id,
        detail={"call_id": result.call_id, "outcome": result.outcome.value},
    )
    flash(result.next_step)
    return redirect(url_for("queue.queue"))


def _minutes(text: str | None) -> int:
    try:
        return int((text or "0").strip() or "0")
    except ValueError as error:
        raise calls.CallRefused("Give the call's length in whole minutes.") from error


def _local_time(text: str | None, time_zone: str | None) -> datetime | None:
    """A datetime-local value ("2026-12-01T10:30") read in the contact's own zone."""
    if not (text or "").strip():
        return None
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise calls.CallRefused("Give the call-back time as a date and a time.") from error
    return naive.replace(tzinfo=contact_zone(time_zone))
