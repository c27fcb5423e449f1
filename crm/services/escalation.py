"""Speed-to-lead: a callback nobody attempted within the response target is escalated, once."""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import CallTask, OutboxMessage
from crm.models.enums import CallReason, CallTaskStatus, OutboxKind, TimelineKind
from crm.services import events
from crm.services.users import active_manager_ids
from crm.services.working_hours import organisation_working_time


def escalate_missed_callbacks(now: datetime) -> list[int]:
    """Flag each overdue, unattempted callback once and alert the managers; return the task ids."""
    target = timedelta(minutes=current_app.config["RESPONSE_TARGET_MINUTES"])
    working_time = organisation_working_time()
    # Wall-clock time is never less than working time, so this bounds the candidates.
    candidates = db.session.scalars(
        sa.select(CallTask).where(
            CallTask.status == CallTaskStatus.open,
            # Speed-to-lead is promised to callback requests; other calls have no target.
            CallTask.reason == CallReason.requested_callback,
            CallTask.attempts == 0,
            CallTask.escalated_at.is_(None),
            CallTask.due_at <= now - target,
        )
    ).all()
    overdue = [
        (task.id, task.contact_id, task.submission_id, task.due_at)
        for task in candidates
        if working_time.seconds_between(task.due_at, now) >= target.total_seconds()
    ]
    db.session.rollback()
    return [task_id for task_id, *rest in overdue if _escalate(task_id, *rest, now, target)]


def _escalate(task_id, contact_id, submission_id, due_at, now, target) -> bool:
    # The conditional UPDATE makes "once" hold even with two beat schedulers running.
    claimed = db.session.execute(
        sa.update(CallTask)
        .where(CallTask.id == task_id, CallTask.escalated_at.is_(None))
        .values(escalated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return False
    events.record(
        contact_id,
        TimelineKind.callback_escalated,
        submission_id=submission_id,
        detail={"call_task_id": task_id, "due_at": due_at.isoformat()},
        at=now,
    )
    for manager_id in active_manager_ids():
        db.session.add(
            OutboxMessage(
                kind=OutboxKind.callback_escalation,
                contact_id=contact_id,
                submission_id=submission_id,
                payload={
                    "user_id": manager_id,
                    "call_task_id": task_id,
                    "due_at": due_at.isoformat(),
                    "target_minutes": int(target.total_seconds() // 60),
                },
                dedupe_key=f"callback_escalation:{task_id}:{manager_id}",
                due_at=now,
            )
        )
    db.session.commit()
    return True
