"""Callbacks that missed the response target: those still waiting now, and those of a period.

A breach is what escalation (crm/services/escalation.py) marks: a requested callback nobody
attempted within the target, flagged once in escalated_at. Each list is one page read along
its own partial index (ix_call_tasks_breached, ix_call_tasks_breach_history), after a keyset
cursor, and each count stops at a cap, so neither grows with the number of calls ever made.
Contacts appear by id only: these pages are read by admins too, who see no one's details.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import CallTask, Contact
from crm.models.call_task import BREACHED_SQL, PAST_BREACH_SQL
from crm.models.enums import CallTaskStatus

# A report shows the first of each list, with a link to more; the CSV holds the whole list.
BREACH_PAGE_SIZE = 20


@dataclass(frozen=True)
class Breach:
    task_id: int
    contact_id: int
    due_at: datetime
    escalated_at: datetime
    first_attempt_at: datetime | None
    status: CallTaskStatus
    advocate_id: int | None  # the contact's assigned advocate

    @property
    def cursor(self) -> str:
        """Where the next page starts: this row's place in its index."""
        return f"{self.due_at.isoformat()}~{self.task_id}"

    @property
    def waited_minutes(self) -> int | None:
        """Minutes from due to the first call, when one came."""
        if self.first_attempt_at is None:
            return None
        return int((self.first_attempt_at - self.due_at).total_seconds() // 60)


@dataclass(frozen=True)
class BreachPage:
    rows: list[Breach]
    count: int  # up to cap + 1; more than cap shows as "cap+"
    cap: int
    next_cursor: str | None


def parse_cursor(raw: str | None) -> tuple[datetime, int] | None:
    """A cursor from the URL, or None (start from the top) when it is absent or made up."""
    if not raw or "~" not in raw:
        return None
    moment, _, task_id = raw.rpartition("~")
    try:
        due_at, number = datetime.fromisoformat(moment), int(task_id)
    except ValueError:
        return None
    if due_at.tzinfo is None or not 0 < number < 2**31:
        return None
    return due_at, number


@dataclass(frozen=True)
class BreachQuery:
    """Which breaches a list holds, which of them its page shows, and their index's order."""

    condition: sa.ColumnElement
    page_condition: sa.ColumnElement
    order: tuple


def now_query(after: str | None = None) -> BreachQuery:
    """Callbacks escalated and still never attempted, the longest waiting first."""
    # Written as the partial index's own predicate, so the planner may use the index.
    condition = sa.text(BREACHED_SQL)
    order = (CallTask.due_at, CallTask.id)
    cursor = parse_cursor(after)
    if cursor is None:
        return BreachQuery(condition, condition, order)
    return BreachQuery(condition, sa.and_(condition, sa.tuple_(*order) > _values(cursor)), order)


def past_query(start: date, end: date, before: str | None = None) -> BreachQuery:
    """Callbacks due in these organisation days, escalated and since called or closed.

    Newest first; a breach still waiting is in now_query's list instead, never in both.
    """
    zone = ZoneInfo(current_app.config["ORG_TIME_ZONE"])
    since = datetime.combine(start, time(), zone)
    until = datetime.combine(end + timedelta(days=1), time(), zone)
    condition = sa.and_(sa.text(PAST_BREACH_SQL), CallTask.due_at >= since, CallTask.due_at < until)
    order = (CallTask.due_at.desc(), CallTask.id.desc())
    cursor = parse_cursor(before)
    if cursor is None:
        return BreachQuery(condition, condition, order)
    key = sa.tuple_(CallTask.due_at, CallTask.id)
    return BreachQuery(condition, sa.and_(condition, key < _values(cursor)), order)


def breached_now(after: str | None = None) -> BreachPage:
    """A page of the breaches waiting now, and how many there are (up to the cap)."""
    return _page(now_query(after))


def past_breaches(start: date, end: date, before: str | None = None) -> BreachPage:
    """A page of the period's past breaches, and how many there are (up to the cap)."""
    return _page(past_query(start, end, before))


def speed_page_breaches(
    start: date, end: date, now_after: str | None = None, past_before: str | None = None
) -> tuple[BreachPage, BreachPage]:
    """Both lists of the speed page (breached now, past in the period): two statements.

    What breached_now and past_breaches give, with the two pages read in one statement and
    the two counts in another: a round trip each would cost more than the reads.
    """
    queries = (now_query(now_after), past_query(start, end, past_before))
    size, cap = BREACH_PAGE_SIZE, current_app.config["BOARD_COUNT_CAP"]
    pages = [page_statement(query, size + 1).subquery() for query in queries]
    labelled = [
        sa.select(sa.literal(number).label("list"), *page.c) for number, page in enumerate(pages)
    ]
    found: list[list] = [[], []]
    for number, *row in db.session.execute(sa.union_all(*labelled)):
        found[number].append(row)
    counts = db.session.execute(
        sa.select(*(count_statement(query, cap).scalar_subquery() for query in queries))
    ).one()
    result = []
    for rows, count in zip(found, counts, strict=True):
        breaches = [Breach(*row) for row in rows[:size]]
        cursor = breaches[-1].cursor if len(rows) > size else None
        result.append(BreachPage(breaches, count, cap, cursor))
    return result[0], result[1]


def listed(query: BreachQuery, most: int) -> list[Breach]:
    """The list's first `most` breaches in its order: what its CSV holds."""
    return [Breach(*row) for row in db.session.execute(page_statement(query, most))]


def _values(cursor: tuple[datetime, int]) -> sa.Tuple:
    # Bound as the columns' own types, so SQLite compares stored times with like text.
    due_at, task_id = cursor
    return sa.tuple_(sa.literal(due_at, CallTask.due_at.type), sa.literal(task_id, sa.Integer))


def _page(query: BreachQuery) -> BreachPage:
    size = BREACH_PAGE_SIZE
    cap = current_app.config["BOARD_COUNT_CAP"]
    found = db.session.execute(page_statement(query, size + 1)).all()
    rows = [Breach(*row) for row in found[:size]]
    count = db.session.scalar(count_statement(query, cap))
    return BreachPage(rows, count, cap, rows[-1].cursor if len(found) > size else None)


def count_statement(query: BreachQuery, cap: int) -> sa.Select:
    """How many the list holds, counting along its index no further than cap + 1."""
    first = sa.select(CallTask.id).where(query.condition).order_by(*query.order).limit(cap + 1)
    return sa.select(sa.func.count()).select_from(first.subquery())


def page_statement(query: BreachQuery, limit: int) -> sa.Select:
    """One page of breaches in index order, each with its contact's advocate (by primary key)."""
    return (
        sa.select(
            CallTask.id,
            CallTask.contact_id,
            CallTask.due_at,
            CallTask.escalated_at,
            CallTask.first_attempt_at,
            CallTask.status,
            Contact.assigned_user_id,
        )
        .join(Contact, Contact.id == CallTask.contact_id)
        .where(query.page_condition)
        .order_by(*query.order)
        .limit(limit)
    )
