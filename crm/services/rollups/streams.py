"""Reading each source table past its watermark without skipping a row still being written.

Ids come from a sequence when a row is inserted, not when it commits: a transaction that is
still open can hold an id below rows already visible. Stepping the watermark over such a gap
would lose that row for good, so a batch stops at the first gap, unless the gap is settled:
below the highest id seen at least ROLLUP_GAP_GRACE_SECONDS ago (the horizon), which no
transaction still open can hold, so the gap is a rollback. Rows thus wait at most two graces
behind a rollback's gap, and not at all otherwise. SQLite has one writer and reuses no ids.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from crm.extensions import db
from crm.models import (
    Call,
    Chat,
    ChatMessage,
    Contact,
    RollupWatermark,
    StageChange,
    Submission,
    TimelineEvent,
)

# Each source, with the columns folding needs, in the order a batch takes them.
SOURCES = {
    "contacts": (Contact, (Contact.id,)),
    "stage_changes": (
        StageChange,
        (
            StageChange.id,
            StageChange.contact_id,
            StageChange.to_stage,
            StageChange.close_outcome,
            StageChange.created_at,
        ),
    ),
    "calls": (
        Call,
        (
            Call.id,
            Call.contact_id,
            Call.user_id,
            Call.outcome,
            Call.duration_seconds,
            Call.created_at,
        ),
    ),
    # Every kind, though few count: the walk needs the ids without holes (see above).
    "timeline_events": (
        TimelineEvent,
        (
            TimelineEvent.id,
            TimelineEvent.kind,
            TimelineEvent.submission_id,
            TimelineEvent.detail,
        ),
    ),
}
# Every form sent, new lead or not (the daily trend of submissions); corrections are left out
# when folded: they fix a submission, they are not another one.
SOURCES["submissions"] = (
    Submission,
    (Submission.id, Submission.form, Submission.corrects_submission_id, Submission.created_at),
)
# Chats: a new chat is counted as started; every later step of it (accepted, closed, missed)
# writes a system message in the same transaction, so the messages name the chats to read
# again (chat_fold.py). Every sender, though only system messages count: ids without holes.
SOURCES["chats"] = (Chat, (Chat.id,))
SOURCES["chat_messages"] = (ChatMessage, (ChatMessage.id, ChatMessage.chat_id, ChatMessage.sender))
DIMENSIONS_SYNC = "contact_dimensions"


def lock_watermarks() -> dict[str, RollupWatermark]:
    """Every watermark row, created if missing, locked for this transaction (one refresher)."""
    names = [*SOURCES, DIMENSIONS_SYNC]
    table = RollupWatermark.__table__
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    db.session.execute(
        insert.on_conflict_do_nothing(index_elements=["name"]),
        [{"name": name, "last_id": 0, "settled_id": 0, "horizon_id": 0} for name in names],
    )
    query = (
        sa.select(RollupWatermark)
        .where(RollupWatermark.name.in_(names))
        .order_by(RollupWatermark.name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {mark.name: mark for mark in db.session.scalars(query)}


def advance_horizon(mark: RollupWatermark, now: datetime, grace: timedelta) -> None:
    """Settle the horizon once it is a grace old, and take a new one (the highest id now)."""
    model, _ = SOURCES[mark.name]
    if mark.horizon_at is None or now - mark.horizon_at >= grace:
        mark.settled_id = max(mark.settled_id, mark.horizon_id)
        mark.horizon_id = db.session.scalar(sa.select(sa.func.max(model.id))) or 0
        mark.horizon_at = now


def next_rows(mark: RollupWatermark, now: datetime, grace: timedelta, limit: int) -> list:
    """Up to `limit` rows past the watermark, in id order, stopping at an unsettled gap."""
    model, columns = SOURCES[mark.name]
    advance_horizon(mark, now, grace)
    rows = db.session.execute(
        sa.select(*columns).where(model.id > mark.last_id).order_by(model.id).limit(limit)
    ).all()
    taken, reached = [], mark.last_id
    for row in rows:
        if row.id > max(reached, mark.settled_id) + 1:
            break  # ids below this one may still commit
        taken.append(row)
        reached = row.id
    return taken


def settle_old_rows(mark: RollupWatermark, before: datetime) -> None:
    """Treat gaps below rows written before `before` as settled (a rebuild starts from 0)."""
    model, _ = SOURCES[mark.name]
    old = db.session.scalar(sa.select(sa.func.max(model.id)).where(model.created_at < before))
    mark.settled_id = max(mark.settled_id, old or 0)
