"""Report roll-ups, kept current from the raw events so that no report request scans them.

Design (issue 9, "Fast at scale"):

- Sources: contacts (a new lead), stage_changes, calls and timeline_events, the last three
  append-only. Each has a watermark row in rollup_watermarks (the last id folded in);
  `refresh` takes the rows past it in id order, in bounded batches, one transaction per
  batch. Every batch first locks all watermark rows (SELECT ... FOR UPDATE; SQLite has one
  writer), so refreshes running at once queue behind each other and each row is folded in
  exactly once. Gaps in the ids are handled in streams.py.
- rollup_contacts: one row per lead: its cohort day (the lead's creation date in
  ORG_TIME_ZONE), its report dimensions and its first call. Dimensions: the form of the
  lead's first submission; source, medium and campaign of its first touch (the contact's
  utm_* columns); diagnosis, veteran, state and assigned advocate as they are now. The
  current values, not those at creation: "who converts them" is the advocate who owns them,
  and a diagnosis learnt on the phone is the better one. Contacts whose updated_at moved
  since the last refresh (less the grace) and whose dimensions differ are moved from their
  old funnel_daily rows to their new ones.
- contact_milestones: the first time each lead reached each funnel stage, insert-if-absent.
  The funnel is new → attempting → contacted → qualified → referred → helped (closed as
  helped); reaching a stage reaches every one before it, at the same moment (a forward skip,
  or a reopened contact, never leaves a hole), so each stage's count is at most the one
  before. Closing with any other outcome is the milestone "lost:<outcome>": a lead can be
  lost for a reason and later helped, and is then counted in both.
- funnel_daily: cohort day x dimensions x milestone → leads. A report for a range of days
  sums rows of those days only (the primary key starts with the day).
- speed_daily: cohort day x form x advocate who made the first call x minutes bucket →
  leads. Speed-to-lead is wall-clock time from the lead's creation to the first call logged
  for it; medians and p90 come from the histogram (buckets.py), exact to the bucket.
- call_daily: day of the call (ORG_TIME_ZONE) x advocate x outcome x handling-time bucket
  → calls and total seconds.
- submissions (every form sent, corrections left out) are counted per day and form in the
  slices only ("submissions" family): the daily trend of submissions.
- report_slices: the three daily tables summed per dimension over power-of-two blocks of
  days (slices.py), changed with them; what the reports read unless they combine a filter
  with a breakdown.
- referral_guide_daily (with guide_milestones): referrals by the day they were sent and
  guides by the day they were requested, per step reached, folded from the timeline events
  (referral_fold.py says which).
- chat_daily (with rollup_chats): chats by the day they started, per measure (started,
  accepted, missed, closed per outcome, wait and handling buckets), folded from new chats and
  the system messages each later step writes (chat_fold.py), and summed into the "chats"
  report slices with it.
- `rebuild` empties the roll-ups and folds everything in again, in one transaction, so
  readers see the old figures until it commits; on PostgreSQL in set-based statements.
  Changing ORG_TIME_ZONE needs a rebuild.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import (
    CallDaily,
    ChatDaily,
    ContactMilestone,
    FunnelDaily,
    GuideMilestone,
    ReferralGuideDaily,
    ReportSlice,
    RollupChat,
    RollupContact,
    SpeedDaily,
    utcnow,
)
from crm.services.rollups import chat_fold, fold, referral_fold, set_based
from crm.services.rollups.streams import (
    DIMENSIONS_SYNC,
    SOURCES,
    lock_watermarks,
    next_rows,
    settle_old_rows,
)

_FOLDERS = {
    "contacts": lambda rows: fold.fold_contacts(row.id for row in rows),
    "stage_changes": fold.fold_stage_changes,
    "calls": fold.fold_calls,
    "submissions": fold.fold_submissions,
    "timeline_events": referral_fold.fold_timeline,
    "chats": chat_fold.fold_new_chats,
    "chat_messages": chat_fold.fold_chat_messages,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _grace() -> timedelta:
    return timedelta(seconds=current_app.config["ROLLUP_GAP_GRACE_SECONDS"])


@dataclass
class _Pass:
    """Where one refresh has got to in its walk over contacts whose dimensions changed."""

    started: datetime
    after_id: int = 0


def _fold_batch(now: datetime, limit: int, sync: _Pass) -> tuple[int, bool]:
    """Fold one batch of each source and of changed dimensions; (rows folded, more to do)."""
    marks = lock_watermarks()
    folded, more = 0, False
    for name in SOURCES:
        rows = next_rows(marks[name], now, _grace(), limit)
        if rows:
            _FOLDERS[name](rows)
            marks[name].last_id = rows[-1].id
        folded += len(rows)
        more = more or len(rows) == limit
    mark = marks[DIMENSIONS_SYNC]
    since = (mark.synced_at or _EPOCH) - _grace()
    moved, after_id = fold.sync_dimensions(since, sync.after_id, limit)
    if after_id is None:
        mark.synced_at = max(sync.started, mark.synced_at or _EPOCH)
    else:
        sync.after_id = after_id
    db.session.flush()
    return folded + moved, more or after_id is not None


def _new_pass(now: datetime) -> _Pass:
    # updated_at is written by the application's clock: never look from later than that.
    return _Pass(started=min(now, utcnow()))


def refresh(now: datetime | None = None, batch_size: int | None = None) -> int:
    """Fold every new event into the roll-ups, committing each batch; returns rows folded."""
    now = now or utcnow()
    limit = batch_size or current_app.config["ROLLUP_BATCH_SIZE"]
    sync = _new_pass(now)
    total, more = 0, True
    while more:
        folded, more = _fold_batch(now, limit, sync)
        db.session.commit()
        total += folded
    return total


def rebuild(
    now: datetime | None = None, batch_size: int | None = None, *, in_sql: bool | None = None
) -> int:
    """Empty the roll-ups and recompute them from the raw events, in one transaction.

    On PostgreSQL (unless in_sql is False) in a few set-based statements (set_based.py),
    which give what folding every event in batches gives, and in minutes at ten million.
    """
    now = now or utcnow()
    if in_sql is None:
        in_sql = db.session.get_bind().dialect.name == "postgresql"
    limit = batch_size or current_app.config["ROLLUP_BATCH_SIZE"]
    marks = lock_watermarks()
    # DELETE, not TRUNCATE: TRUNCATE would lock readers out until the rebuild commits.
    derived = (ReportSlice, FunnelDaily, SpeedDaily, CallDaily, ContactMilestone, RollupContact)
    for model in (*derived, ReferralGuideDaily, GuideMilestone, ChatDaily, RollupChat):
        db.session.execute(sa.delete(model))
    for name in SOURCES:
        marks[name].last_id = 0
        settle_old_rows(marks[name], now - _grace())
    sync = _new_pass(now)
    marks[DIMENSIONS_SYNC].synced_at = sync.started
    if in_sql:
        # Every lead is read with its current dimensions: nothing is left to move.
        total = set_based.rebuild_in_sql(marks, now, _grace())
    else:
        total, more = 0, True
        while more:
            folded, more = _fold_batch(now, limit, sync)
            total += folded
    db.session.commit()
    if in_sql:
        set_based.vacuum_rebuilt()
    return total
