"""Which call tasks may be offered now, as SQL conditions both databases evaluate the same way.

Calling hours and best-time slots are judged in the contact's own time zone inside the
query, so that on PostgreSQL the claim stays one statement; SQLite gets the same function
from Python (crm.models.contact.SQLITE_FUNCTIONS).
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles

from crm.models import CallTask, ConsentRecord, Contact
from crm.models.base import UTCDateTime
from crm.models.enums import BestTime, CallTaskStatus, ConsentChannel, Stage
from crm.services.callback_times import DEFAULT_TIME_ZONE, SLOT_HOURS, contact_zone, slot_hours
from crm.services.windows import calling_hours


class local_clock(sa.sql.functions.FunctionElement):
    """The wall-clock time ("HH:MM:SS") of a UTC moment in a time zone."""

    type = sa.String()
    inherit_cache = True


@compiles(local_clock)
def _compile_local_clock(element, compiler, **kw):
    moment, zone = element.clauses
    return f"local_clock({compiler.process(moment, **kw)}, {compiler.process(zone, **kw)})"


@compiles(local_clock, "postgresql")
def _compile_local_clock_postgresql(element, compiler, **kw):
    moment, zone = (compiler.process(clause, **kw) for clause in element.clauses)
    local = f"(CAST({moment} AS TIMESTAMPTZ) AT TIME ZONE {zone})"
    return f"to_char({local}, 'HH24:MI:SS')"


def sqlite_local_clock(moment: str | None, zone: str | None) -> str | None:
    """SQLite's local_clock(): the moment is stored as naive UTC text."""
    if moment is None:
        return None
    parsed = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    return parsed.astimezone(contact_zone(zone)).strftime("%H:%M:%S")


def now_parameter() -> sa.BindParameter:
    return sa.bindparam("now", type_=UTCDateTime())


def inside_calling_time(now: sa.ColumnElement) -> sa.ColumnElement:
    """The task's contact may be called now: calling hours and, where given, their slot."""
    # The task's copy of the contact's zone: tested in the walk, before the contact is read.
    clock = local_clock(now, sa.func.coalesce(CallTask.time_zone, DEFAULT_TIME_ZONE))
    calling = calling_hours()
    # The window's edges by slot, so the local clock is worked out twice, not once per slot.
    opens, closes = (
        sa.case(
            {best_time: slot_hours(best_time)[edge].isoformat() for best_time in SLOT_HOURS},
            value=CallTask.best_time,
            else_=(calling.opens, calling.closes)[edge].isoformat(),
        )
        for edge in (0, 1)
    )
    return sa.and_(clock >= opens, clock < closes)


def may_be_called() -> sa.ColumnElement:
    """The contact's newest calls consent is a yes: never asked, or refused since, is a no."""
    newest = (
        sa.select(ConsentRecord.granted)
        .where(
            ConsentRecord.contact_id == Contact.id,
            ConsentRecord.channel == ConsentChannel.calls_texts,
        )
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.and_(
        newest == sa.true(),
        Contact.merged_into_id.is_(None),
        Contact.stage != Stage.closed,
        Contact.phone_e164.is_not(None),
        Contact.phone_wrong_at.is_(None),
    )


def is_open() -> sa.ColumnElement:
    """Open, written as a literal: the claim-order index is partial on it, and a planner can use
    a partial index only when the query's own condition proves the index's, bound value or not.
    """
    return CallTask.status == sa.literal_column(f"'{CallTaskStatus.open.value}'")


def waiting(now: sa.ColumnElement) -> sa.ColumnElement:
    """Open and nobody holds it: never claimed, or the lease ran out."""
    return sa.and_(
        is_open(),
        sa.or_(CallTask.lease_expires_at.is_(None), CallTask.lease_expires_at <= now),
    )


# The claim order: band (callbacks, new leads, retries; CallTask.queue_rank), then oldest first,
# which puts overdue callbacks first. ix_call_tasks_claim_order holds the open tasks this way.
CLAIM_ORDER = (CallTask.queue_rank, CallTask.due_at, CallTask.id)


def slot_label(best_time: BestTime) -> str:
    opens, closes = slot_hours(best_time)
    return f"{opens:%H:%M}-{closes:%H:%M}"
