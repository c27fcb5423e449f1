"""The queue page's read model: counts per band of what is due now, and the next few calls."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import CallTask, Contact
from crm.models.enums import BestTime, CallReason
from crm.services.callback_times import callback_due_at
from crm.services.queue import rules

BANDS = {
    "overdue": "Overdue callbacks",
    "callback": "New callback requests",
    "new_lead": "New guide and specialist-match leads",
    "retry": "Retries",
}


@dataclass(frozen=True)
class QueueRow:
    call_task_id: int
    contact_id: int
    name: str
    band: str
    due_at: datetime
    best_time: BestTime
    callable_now: bool
    cursor: str


@dataclass(frozen=True)
class QueueOverview:
    counts: dict[str, int]
    rows: list[QueueRow]
    next_cursor: str | None


def _band(now: datetime) -> sa.ColumnElement:
    target = timedelta(minutes=current_app.config["RESPONSE_TARGET_MINUTES"])
    callback = CallTask.reason.in_(rules.CALLBACKS)
    return sa.case(
        (sa.and_(callback, CallTask.due_at <= now - target), "overdue"),
        (callback, "callback"),
        (CallTask.reason == CallReason.new_lead, "new_lead"),
        else_="retry",
    )


def parse_cursor(text: str | None) -> tuple[int, datetime, int] | None:
    """A page cursor "rank.due_at.id" back into its keys; anything else is the first page."""
    try:
        rank, due_at, task_id = (text or "").split("~")
        return int(rank), datetime.fromisoformat(due_at), int(task_id)
    except ValueError:
        return None


def queue_overview(now: datetime, *, after: str | None = None, limit: int = 25) -> QueueOverview:
    """Counts per band over open, due, unheld call tasks, and one page of them in claim order."""
    moment = rules.now_parameter()
    due = sa.and_(rules.waiting(moment), CallTask.due_at <= moment)
    band = _band(now)
    counts = dict.fromkeys(BANDS, 0)
    counted = db.session.execute(
        sa.select(band, sa.func.count()).where(due).group_by(band), {"now": now}
    ).all()
    counts.update({name: number for name, number in counted})
    rank = rules.band_rank()
    query = (
        sa.select(
            CallTask.id,
            CallTask.contact_id,
            CallTask.due_at,
            CallTask.best_time,
            Contact.first_name,
            Contact.last_name,
            Contact.time_zone,
            rank.label("rank"),
            band.label("band"),
        )
        .join(Contact, Contact.id == CallTask.contact_id)
        .where(due, rules.may_be_called())
        .order_by(rank, CallTask.due_at, CallTask.id)
        .limit(limit + 1)
    )
    keys = parse_cursor(after)
    if keys is not None:
        rank_after, due_after, id_after = keys
        query = query.where(
            sa.tuple_(rank, CallTask.due_at, CallTask.id)
            > sa.tuple_(
                sa.literal(rank_after),
                sa.literal(due_after, CallTask.due_at.type),
                sa.literal(id_after),
            )
        )
    found = db.session.execute(query, {"now": now}).all()
    rows = [
        QueueRow(
            call_task_id=row.id,
            contact_id=row.contact_id,
            name=f"{row.first_name} {row.last_name}".strip(),
            band=row.band,
            due_at=row.due_at,
            best_time=row.best_time,
            callable_now=callback_due_at(row.best_time, row.time_zone, now) == now,
            cursor=f"{row.rank}~{row.due_at.isoformat()}~{row.id}",
        )
        for row in found[:limit]
    ]
    next_cursor = rows[-1].cursor if len(found) > limit else None
    return QueueOverview(counts, rows, next_cursor)
