"""What follows each logged call outcome: a retry, a callback, a close, or outreach stopping."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Call, CallTask, ConsentRecord, Contact, OutboxMessage, Submission
from crm.models.enums import (
    BestTime,
    CallOutcome,
    CallReason,
    CallTaskStatus,
    CloseOutcome,
    ConsentChannel,
    OutboxKind,
    OutboxStatus,
    Stage,
    TimelineKind,
)
from crm.services import events, outbox, stages, suppressions
from crm.services.actors import Actor
from crm.services.callback_times import callback_due_at, contact_zone
from crm.services.sequences import TRANSACTIONAL, next_send_time
from crm.services.windows import calling_hours, setting

UNANSWERED = (CallOutcome.no_answer, CallOutcome.voicemail, CallOutcome.busy)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_NOT_STARTED = (OutboxStatus.pending, OutboxStatus.dispatched)


@dataclass(frozen=True)
class NextStep:
    message: str
    due_at: datetime | None = None


def retry_offsets() -> list[timedelta]:
    """CALL_RETRY_OFFSETS ("2h,1d,3d") as the wait before each retry; its length is the cap."""
    offsets = []
    for part in setting("CALL_RETRY_OFFSETS").split(","):
        part = part.strip()
        offsets.append(timedelta(**{_UNITS[part[-1]]: int(part[:-1])}))
    return offsets


def in_calling_hours(moment: datetime, time_zone: str | None) -> bool:
    return calling_hours().contains(moment.astimezone(contact_zone(time_zone)).time())


def describe_local(moment: datetime, time_zone: str | None) -> str:
    """ "Tue 10:00 in their time (EST)": when something happens, on the contact's clock."""
    local = moment.astimezone(contact_zone(time_zone))
    return f"{local:%a %H:%M} in their time ({local:%Z})"


def follow_up(
    task: CallTask, contact: Contact, call: Call, actor: Actor, ip_address, now
) -> NextStep:
    """Do what the call's outcome calls for, in the caller's transaction."""
    ids = [
        contact.id,
        *db.session.scalars(sa.select(Contact.id).where(Contact.merged_into_id == contact.id)),
    ]
    outcome = call.outcome
    if outcome in UNANSWERED:
        return _unanswered(task, contact, ids, outcome, actor, now)
    if outcome == CallOutcome.call_back_at:
        # They picked up and named a time: a conversation, so it counts as reaching them,
        # nurture emails included (see _reached).
        stopped = _reached(contact, ids, actor, now, "Reached on the phone; asked to call back.")
        due = _add_task(contact, CallReason.call_back_at, BestTime.asap, call.call_back_at)
        return NextStep(
            f"Call back {describe_local(due, contact.time_zone)}. Stage is "
            f"{contact.stage.label}; {stopped} nurture email(s) stopped.",
            due,
        )
    if outcome == CallOutcome.reached:
        stopped = _reached(contact, ids, actor, now, "Reached on the phone.")
        return NextStep(
            f"Reached. Stage is {contact.stage.label}; {stopped} nurture email(s) stopped."
        )
    if outcome == CallOutcome.wrong_number:
        contact.phone_wrong_at = now
        _cancel_calls(ids)
        queued = _queue_tried_to_reach(contact, ids, now)
        return NextStep(
            "Wrong number: this phone will not be offered again"
            + ("; a follow-up email is queued." if queued else "; no email consent, so no email.")
        )
    if outcome == CallOutcome.do_not_call:
        from crm.services.do_not_contact import mark_do_not_contact

        result = mark_do_not_contact(
            contact.id, ConsentChannel.calls_texts, actor.user_id, ip_address
        )
        return NextStep(
            f"Do not call recorded; {result.cancelled_call_tasks} other open call(s) cancelled."
        )
    # Deceased: closing as deceased is the condolence flag; every call and email stops.
    _close(contact, CloseOutcome.deceased, "Logged on a call: the person has died.", actor, now)
    _cancel_calls(ids)
    _cancel_emails(ids, actor, now, "deceased", commercial_only=False)
    return NextStep("Closed as deceased. All calls and emails are stopped.")


def _reached(contact: Contact, ids: list[int], actor, now, why: str) -> int:
    """A conversation: the stage moves to contacted where it may; return the emails stopped.

    The nurture emails are cancelled whatever the stage: delivery stops commercial email to
    a contact we have reached anyway (sequences.stop_reason, "reached"), so cancelling them
    now only makes the outbox and the timeline say so at the moment it happened.
    """
    if Stage.contacted in stages.allowed_moves(contact.stage):
        stages.change_stage(contact.id, stages.StageMove(Stage.contacted, why), actor, at=now)
    return _cancel_emails(ids, actor, now, "reached", commercial_only=True)


def _unanswered(task, contact, ids, outcome: CallOutcome, actor, now) -> NextStep:
    offsets = retry_offsets()
    tries = _unanswered_in_a_row(contact.id, len(offsets) + 1)
    label = outcome.label
    if tries <= len(offsets):
        if Stage.attempting in stages.allowed_moves(contact.stage) and contact.stage == Stage.new:
            stages.change_stage(
                contact.id, stages.StageMove(Stage.attempting, "Call attempted."), actor, at=now
            )
        due = _add_task(contact, CallReason.retry, task.best_time, now + offsets[tries - 1])
        return NextStep(f"{label}. Next try {describe_local(due, contact.time_zone)}.", due)
    _close(contact, CloseOutcome.unreachable, f"No answer after {tries} calls.", actor, now)
    _cancel_calls(ids)
    queued = _queue_tried_to_reach(contact, ids, now)
    return NextStep(
        f"{label}. That was the last try: closed as unreachable"
        + (
            "; a \u201cwe tried to reach you\u201d email is queued."
            if queued
            else "; no email consent, so no email."
        )
    )


def _unanswered_in_a_row(contact_id: int, limit: int) -> int:
    outcomes = db.session.scalars(
        sa.select(Call.outcome)
        .where(Call.contact_id == contact_id)
        .order_by(Call.id.desc())
        .limit(limit)
    ).all()
    count = 0
    for outcome in outcomes:
        if outcome not in UNANSWERED:
            break
        count += 1
    return count


def _add_task(
    contact: Contact, reason: CallReason, best_time: BestTime, moment: datetime
) -> datetime:
    # Always inside calling hours (and the slot they asked for) in the contact's own zone.
    due = callback_due_at(best_time, contact.time_zone, moment)
    db.session.add(CallTask(contact_id=contact.id, reason=reason, best_time=best_time, due_at=due))
    db.session.flush()
    return due


def _close(contact, outcome: CloseOutcome, reason: str, actor, now) -> None:
    stages.change_stage(contact.id, stages.StageMove(Stage.closed, reason, outcome), actor, at=now)


def _cancel_calls(contact_ids: list[int]) -> int:
    return db.session.execute(
        sa.update(CallTask)
        .where(CallTask.contact_id.in_(contact_ids), CallTask.status == CallTaskStatus.open)
        .values(status=CallTaskStatus.cancelled, claimed_by_user_id=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def _cancel_emails(contact_ids, actor, now, reason: str, *, commercial_only: bool) -> int:
    conditions = [OutboxMessage.contact_id.in_(contact_ids), OutboxMessage.status.in_(_NOT_STARTED)]
    if commercial_only:
        conditions.append(OutboxMessage.kind.not_in(TRANSACTIONAL))
    return outbox.cancel_unsent(conditions, reason, actor, now)


def _queue_tried_to_reach(contact: Contact, ids: list[int], now) -> bool:
    """Queue the email when they agreed to email and the address takes our mail; say whether."""
    consent = db.session.scalar(
        sa.select(ConsentRecord.granted)
        .where(ConsentRecord.contact_id.in_(ids), ConsentRecord.channel == ConsentChannel.email)
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )
    # Content comes from a submission's own fields (DESIGN.md rule 7): the newest with an email.
    submission = next(
        (
            row
            for row in db.session.scalars(
                sa.select(Submission)
                .where(Submission.contact_id.in_(ids))
                .order_by(Submission.id.desc())
            )
            if (row.fields or {}).get("email")
        ),
        None,
    )
    if (
        not consent
        or submission is None
        or suppressions.suppression_reason(submission.fields["email"])
    ):
        return False
    message = outbox.queue_email(
        OutboxKind.tried_to_reach,
        contact.id,
        submission.id,
        f"{OutboxKind.tried_to_reach.value}:{contact.id}:{now.isoformat()}",
        now,
    )
    # Commercial: it waits for the send window in the contact's zone.
    message.due_at = next_send_time(message, contact, now)
    events.record(
        contact.id,
        TimelineKind.email_queued,
        submission_id=submission.id,
        outbox_id=message.id,
        detail={"email": message.kind.value, "due_at": message.due_at.isoformat()},
        at=now,
    )
    return True
