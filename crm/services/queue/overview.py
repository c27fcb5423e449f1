"""The queue page's read model: what is due now per band, the next few calls, what comes next.

Each count stops at QUEUE_COUNT_CAP: an advocate needs "plenty", not an exact figure that would
cost a walk over every due call (managers' reports count everything, elsewhere). Counts and
list apply the same rules, so the numbers describe the rows this advocate is shown.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import CallTask, Contact, User
from crm.models.enums import BestTime, Language
from crm.services.callback_times import callback_due_at
from crm.services.queue import rules
from crm.services.queue.routing import routing_for

BANDS = {
    "overdue": "Overdue callbacks",
    "callback": "New callback requests",
    "new_lead": "New guide and specialist-match leads",
    "retry": "Retries",
}
UPCOMING = 5


@dataclass(frozen=True)
class QueueRow:
    call_task_id: int
    contact_id: int
    name: str
    band: str
    due_at: datetime
    best_time: BestTime
    language: Language
    # The first moment inside calling hours and their slot, in their zone; `now` if it is now.
    callable_at: datetime
    callable_now: bool
    cursor: str


@dataclass(frozen=True)
class QueueOverview:
    counts: dict[str, int]
    rows: list[QueueRow]
    next_cursor: str | None
    upcoming: list[QueueRow]
    count_cap: int


def parse_cursor(text: str | None) -> tuple[int, datetime, int] | None:
    """A page cursor "rank~due_at~id" back into its keys; anything else is the first page."""
    try:
        rank, due_at, task_id = (text or "").split("~")
        return int(rank), datetime.fromisoformat(due_at), int(task_id)
    except ValueError:
        return None


def queue_overview(
    user: User, now: datetime, *, after: str | None = None, limit: int = 25
) -> QueueOverview:
    """Counts per band over the due calls this advocate may take, one page of them in claim
    order, and the next few that come due."""
    moment = rules.now_parameter()
    shown = sa.and_(rules.waiting(moment), rules.may_be_called(), routing_for(user, now).allowed())
    due = sa.and_(shown, CallTask.due_at <= moment)
    overdue_before = now - timedelta(minutes=current_app.config["RESPONSE_TARGET_MINUTES"])
    cap = current_app.config["QUEUE_COUNT_CAP"]
    counts = {
        band: capped_count(sa.and_(due, condition), now, cap)
        for band, condition in band_conditions(overdue_before).items()
    }
    query = _rows(due).order_by(*rules.CLAIM_ORDER).limit(limit + 1)
    keys = parse_cursor(after)
    if keys is not None:
        rank_after, due_after, id_after = keys
        query = query.where(
            sa.tuple_(*rules.CLAIM_ORDER)
            > sa.tuple_(
                sa.literal(rank_after),
                sa.literal(due_after, CallTask.due_at.type),
                sa.literal(id_after),
            )
        )
    found = db.session.execute(query, {"now": now}).all()
    rows = [_row(found_row, now, overdue_before) for found_row in found[:limit]]
    upcoming = db.session.execute(
        _rows(sa.and_(shown, CallTask.due_at > moment))
        .order_by(CallTask.due_at, CallTask.id)
        .limit(UPCOMING),
        {"now": now},
    ).all()
    return QueueOverview(
        counts,
        rows,
        rows[-1].cursor if len(found) > limit else None,
        [_row(found_row, now, overdue_before) for found_row in upcoming],
        cap,
    )


def band_conditions(overdue_before: datetime) -> dict[str, sa.ColumnElement]:
    callbacks = CallTask.queue_rank == 0
    return {
        "overdue": sa.and_(callbacks, CallTask.due_at <= overdue_before),
        "callback": sa.and_(callbacks, CallTask.due_at > overdue_before),
        "new_lead": CallTask.queue_rank == 1,
        "retry": CallTask.queue_rank == 2,
    }


def _band(rank: int, due_at: datetime, overdue_before: datetime) -> str:
    if rank == 0:
        return "overdue" if due_at <= overdue_before else "callback"
    return "new_lead" if rank == 1 else "retry"


def capped_count(condition: sa.ColumnElement, now: datetime, cap: int) -> int:
    """How many rows match, counting no further than cap + 1 (shown as "100+")."""
    first = (
        sa.select(CallTask.id)
        .join(Contact, Contact.id == CallTask.contact_id)
        .where(condition)
        .order_by(*rules.CLAIM_ORDER)
        .limit(cap + 1)
        .subquery()
    )
    return db.session.scalar(sa.select(sa.func.count()).select_from(first), {"now": now})


def _rows(condition: sa.ColumnElement) -> sa.Select:
    return (
        sa.select(
            CallTask.id,
            CallTask.contact_id,
            CallTask.due_at,
            CallTask.best_time,
            CallTask.queue_rank,
            Contact.first_name,
            Contact.last_name,
            Contact.time_zone,
            Contact.preferred_language,
        )
        .join(Contact, Contact.id == CallTask.contact_id)
        .where(condition)
    )


def _row(row: sa.Row, now: datetime, overdue_before: datetime) -> QueueRow:
    callable_at = callback_due_at(row.best_time, row.time_zone, max(now, row.due_at))
    return QueueRow(
        call_task_id=row.id,
        contact_id=row.contact_id,
        name=f"{row.first_name} {row.last_name}".strip(),
        band=_band(row.queue_rank, row.due_at, overdue_before),
        due_at=row.due_at,
        best_time=row.best_time,
        language=row.preferred_language,
        callable_at=callable_at,
        callable_now=callable_at == now,
        cursor=f"{row.queue_rank}~{row.due_at.isoformat()}~{row.id}",
    )
