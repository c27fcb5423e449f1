"""A rebuild of the roll-ups in a few set-based statements, for PostgreSQL at scale.

The fold (fold.py) takes events a batch at a time and looks rows up as it goes: right for a
refresh of a few thousand new events, far too slow for ten million. A rebuild starts from
empty tables, so PostgreSQL can compute each table in one INSERT ... SELECT ... GROUP BY,
straight from contacts, submissions, stage_changes, calls, timeline events and referrals. It
must give exactly what the fold gives, watermarks included, so that the next refresh goes on
where the rebuild stopped:

- each source is taken up to where the fold's walk stops (streams.next_rows): the row
  before the first gap in its ids above the settled id;
- leads are the contacts taken plus every contact a taken event names (the fold takes a
  lead in with its first event), with the same dimensions (fold._dimension_columns);
- a milestone's time is the earliest of the lead's creation ("new") and the taken moves that
  reach it, per fold.milestones_of (turned into a table of to_stage, outcome, milestone);
- a lead's first call is its earliest taken call, the lowest id among equals;
- buckets are the lower bounds of buckets.py's bounds (width_bucket over the same arrays);
- the report slices are the daily tables spread over their dimensions (slices.py), and each
  span above a day is summed from the span below it.
- referral and guide steps are read from the taken timeline events as referral_fold.py
  reads them, each guide step once per request, referrals and requests still there only.
- chats as chat_fold.py counts them (chat_sql.py).

tests/property/test_rollups_set_based.py checks it against the fold on random data.
"""

from itertools import pairwise

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import RollupWatermark
from crm.models.enums import CloseOutcome, OutboxKind, Stage, TimelineKind
from crm.services.rollups import chat_sql
from crm.services.rollups.buckets import MINUTE_BOUNDS, SECOND_BOUNDS
from crm.services.rollups.fold import milestones_of
from crm.services.rollups.referral_fold import EMAILED, GUIDE, GUIDE_EVENTS
from crm.services.rollups.slices import LEVELS
from crm.services.rollups.streams import SOURCES, advance_horizon

# The first id above `settled` that follows a hole: the walk stops before it.
_TAKEN = """
SELECT coalesce(max(id), 0), count(*) FROM {table}
WHERE id < coalesce((
  SELECT min(id) FROM (
    SELECT id, lag(id) OVER (ORDER BY id) AS before FROM {table} WHERE id > :settled
  ) AS later
  WHERE id > :settled + 1 AND (before IS NULL OR id > before + 1)
), 9223372036854775807)
"""

_LEADS = """
INSERT INTO rollup_contacts (contact_id, cohort_day, created_at, form, source, medium,
                             campaign, diagnosis, is_veteran, state, advocate_id,
                             first_call_at, first_caller_id)
SELECT c.id, (c.created_at AT TIME ZONE :tz)::date, c.created_at, coalesce(f.form, ''),
       coalesce(c.utm_source, ''), coalesce(c.utm_medium, ''), coalesce(c.utm_campaign, ''),
       coalesce(c.diagnosis, ''), c.is_veteran, coalesce(c.state, ''),
       coalesce(c.assigned_user_id, 0), first_call.created_at, first_call.user_id
FROM contacts AS c
LEFT JOIN (
  SELECT DISTINCT ON (contact_id) contact_id, form FROM submissions ORDER BY contact_id, id
) AS f ON f.contact_id = c.id
LEFT JOIN (
  SELECT DISTINCT ON (contact_id) contact_id, created_at, user_id FROM calls
  WHERE id <= :calls ORDER BY contact_id, created_at, id
) AS first_call ON first_call.contact_id = c.id
WHERE c.id <= :contacts
   OR c.id IN (SELECT contact_id FROM stage_changes WHERE id <= :stage_changes)
   OR c.id IN (SELECT contact_id FROM calls WHERE id <= :calls)
"""

# Moves are first reduced to the earliest of each kind per lead, then spread to milestones.
_MILESTONES = """
INSERT INTO contact_milestones (contact_id, stage, reached_at)
SELECT contact_id, stage, min(at) FROM (
  SELECT contact_id, 'new' AS stage, created_at AS at FROM rollup_contacts
  UNION ALL
  SELECT moves.contact_id, reach.stage, moves.at
  FROM (
    SELECT contact_id, to_stage, coalesce(close_outcome, '') AS outcome, min(created_at) AS at
    FROM stage_changes WHERE id <= :stage_changes GROUP BY 1, 2, 3
  ) AS moves
  JOIN unnest(CAST(:reach_to AS text[]), CAST(:reach_outcome AS text[]),
              CAST(:reach_stage AS text[])) AS reach (to_stage, outcome, stage)
    ON reach.to_stage = moves.to_stage AND reach.outcome = moves.outcome
) AS reached
GROUP BY contact_id, stage
"""

_FUNNEL = """
INSERT INTO funnel_daily (day, form, source, medium, campaign, diagnosis, is_veteran, state,
                          advocate_id, stage, contacts)
SELECT r.cohort_day, r.form, r.source, r.medium, r.campaign, r.diagnosis, r.is_veteran,
       r.state, r.advocate_id, m.stage, count(*)
FROM contact_milestones AS m JOIN rollup_contacts AS r USING (contact_id)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
"""


def _bucket(value: str, bounds: str) -> str:
    """buckets.bucket_of in SQL: the greatest bound at or below the value (negatives: 0)."""
    array = f"CAST(:{bounds} AS bigint[])"
    return f"({array})[width_bucket(greatest({value}, 0), {array})]"


# Whole minutes, floored, as fold._speed_key's int(total_seconds // 60).
_MINUTES = "floor(extract(epoch FROM first_call_at - created_at) / 60)::bigint"
_SPEED = f"""
INSERT INTO speed_daily (day, form, advocate_id, minutes_bucket, contacts)
SELECT cohort_day, form, first_caller_id, {_bucket(_MINUTES, "minute_bounds")}, count(*)
FROM rollup_contacts WHERE first_call_at IS NOT NULL
GROUP BY 1, 2, 3, 4
"""

_CALLS = f"""
INSERT INTO call_daily (day, user_id, outcome, seconds_bucket, calls, seconds_total)
SELECT (created_at AT TIME ZONE :tz)::date, user_id, outcome,
       {_bucket("duration_seconds::bigint", "second_bounds")}, count(*), sum(duration_seconds)
FROM calls WHERE id <= :calls
GROUP BY 1, 2, 3, 4
"""

# The 1-day slices from the daily tables (each row spread to its dimensions, as
# slices.bump_* do), then each longer span from the one below it: two blocks make one.
_SLICED_DAYS = """
INSERT INTO report_slices (family, dimension, span, day, value, measure, n, total)
SELECT :family, d.dimension, 1, t.day, d.value, {measure}, sum({n}), sum({total})
FROM {table} AS t CROSS JOIN LATERAL (VALUES {pairs}) AS d (dimension, value)
GROUP BY d.dimension, t.day, d.value, {measure}
"""
_FUNNEL_PAIRS = """('', ''), ('form', t.form), ('source', t.source), ('medium', t.medium),
  ('campaign', t.campaign), ('diagnosis', t.diagnosis),
  ('is_veteran', CASE WHEN t.is_veteran THEN 'true' ELSE 'false' END), ('state', t.state),
  ('advocate_id', CAST(t.advocate_id AS text))"""
_SLICES_FROM_DAYS = {
    "funnel": _SLICED_DAYS.format(
        table="funnel_daily", pairs=_FUNNEL_PAIRS, measure="t.stage", n="t.contacts", total="0"
    ),
    "speed": _SLICED_DAYS.format(
        table="speed_daily",
        pairs="('', ''), ('form', t.form), ('advocate_id', CAST(t.advocate_id AS text))",
        measure="CAST(t.minutes_bucket AS text)",
        n="t.contacts",
        total="0",
    ),
    "calls": _SLICED_DAYS.format(
        table="call_daily",
        pairs="('user_id', CAST(t.user_id AS text))",
        measure="t.outcome || '/' || t.seconds_bucket",
        n="t.calls",
        total="t.seconds_total",
    ),
}
_SLICES_FROM_DAYS["chats"] = chat_sql.SLICES
# Submissions go to the slices straight from their table (no daily table of their own).
_SUBMISSIONS = """
INSERT INTO report_slices (family, dimension, span, day, value, measure, n, total)
SELECT 'submissions', d.dimension, 1, (s.created_at AT TIME ZONE :tz)::date, d.value,
       'submitted', count(*), 0
FROM submissions AS s CROSS JOIN LATERAL (VALUES ('', ''), ('form', CAST(s.form AS text)))
  AS d (dimension, value)
WHERE s.id <= :submissions AND s.corrects_submission_id IS NULL
GROUP BY d.dimension, 4, d.value
"""
_SLICES_DOUBLED = """
INSERT INTO report_slices (family, dimension, span, day, value, measure, n, total)
SELECT family, dimension, :span, day - (day - DATE '1970-01-01') % :span, value, measure,
       sum(n), sum(total)
FROM report_slices WHERE span = :half
GROUP BY family, dimension, 4, value, measure
"""

# Detail is json: read as jsonb, which has the operators on every PostgreSQL version.
_GUIDE_MILESTONES = """
INSERT INTO guide_milestones (submission_id, milestone)
SELECT DISTINCT e.submission_id, steps.milestone
FROM timeline_events AS e
JOIN unnest(CAST(:guide_kinds AS text[]), CAST(:guide_steps AS text[])) AS steps (kind, milestone)
  ON steps.kind = e.kind
JOIN submissions AS s ON s.id = e.submission_id
WHERE e.id <= :timeline_events
  AND (e.kind != 'email_sent' OR CAST(e.detail AS jsonb) ->> 'email' = :guide_email)
"""

_REFERRALS_AND_GUIDES = """
INSERT INTO referral_guide_daily (day, kind, milestone, items)
SELECT (r.created_at AT TIME ZONE :tz)::date, r.kind, steps.status, count(*)
FROM (
  SELECT CAST(opened.id AS integer) AS referral_id, 'sent' AS status
  FROM timeline_events AS e,
       jsonb_array_elements_text(CAST(e.detail AS jsonb) -> 'referral_ids') AS opened (id)
  WHERE e.id <= :timeline_events AND e.kind = 'referral_sent'
  UNION ALL
  SELECT CAST(CAST(e.detail AS jsonb) ->> 'referral_id' AS integer),
         CAST(e.detail AS jsonb) ->> 'to'
  FROM timeline_events AS e
  WHERE e.id <= :timeline_events AND e.kind = 'referral_updated'
) AS steps
JOIN referrals AS r ON r.id = steps.referral_id
GROUP BY 1, 2, 3
UNION ALL
SELECT (s.created_at AT TIME ZONE :tz)::date, :guide, m.milestone, count(*)
FROM guide_milestones AS m JOIN submissions AS s ON s.id = m.submission_id
GROUP BY 1, 2, 3
"""

STATEMENTS = {
    "rollup_contacts": _LEADS,
    "contact_milestones": _MILESTONES,
    "funnel_daily": _FUNNEL,
    "speed_daily": _SPEED,
    "call_daily": _CALLS,
    "guide_milestones": _GUIDE_MILESTONES,
    "referral_guide_daily": _REFERRALS_AND_GUIDES,
    **chat_sql.statements(_bucket),
}


def _reach_table() -> dict[str, list[str]]:
    """Every (to_stage, outcome or '') a stage change can hold, with the milestones it reaches."""
    rows = [
        (stage.value, outcome.value if outcome else "", milestone)
        for stage in Stage
        for outcome in (CloseOutcome if stage == Stage.closed else [None])
        for milestone in milestones_of(stage, outcome)
    ]
    to, outcome, reached = (list(column) for column in zip(*rows, strict=True))
    return {"reach_to": to, "reach_outcome": outcome, "reach_stage": reached}


def _take(mark: RollupWatermark, now, grace) -> int:
    """Move the watermark to where the fold's walk would stop; returns the rows taken."""
    advance_horizon(mark, now, grace)
    table = SOURCES[mark.name][0].__tablename__
    last_id, taken = db.session.execute(
        sa.text(_TAKEN.format(table=table)), {"settled": mark.settled_id}
    ).one()
    mark.last_id = last_id
    return taken


def rebuild_in_sql(marks: dict[str, RollupWatermark], now, grace) -> int:
    """Fill the emptied roll-up tables from the raw rows; returns the source rows taken."""
    taken = sum(_take(marks[name], now, grace) for name in SOURCES)
    parameters = {
        **{name: marks[name].last_id for name in SOURCES},
        **_reach_table(),
        "tz": current_app.config["ORG_TIME_ZONE"],
        "minute_bounds": list(MINUTE_BOUNDS),
        "second_bounds": list(SECOND_BOUNDS),
        "guide_kinds": [TimelineKind.email_sent.value, *(k.value for k in GUIDE_EVENTS)],
        "guide_steps": [EMAILED, *GUIDE_EVENTS.values()],
        "guide_email": OutboxKind.guide_email.value,
        "guide": GUIDE,
        **chat_sql.parameters(),
    }
    # Sorting and hashing millions of rows: in memory for this transaction, not on disk; and
    # each statement reads a whole table by design (a command, not a request): no timeout.
    db.session.execute(sa.text("SET LOCAL work_mem = '256MB'"))
    db.session.execute(sa.text("SET LOCAL statement_timeout = 0"))
    for statement in STATEMENTS.values():
        db.session.execute(sa.text(statement), parameters)
    for family, statement in _SLICES_FROM_DAYS.items():
        db.session.execute(sa.text(statement), {"family": family})
    db.session.execute(sa.text(_SUBMISSIONS), parameters)
    for half, span in pairwise(LEVELS):
        db.session.execute(sa.text(_SLICES_DOUBLED), {"half": half, "span": span})
    # Every row is new: the planner's statistics would otherwise describe the old tables
    # (or empty ones) until autovacuum comes by, and misjudge the report reads.
    db.session.execute(sa.text(f"ANALYZE {', '.join(STATEMENTS)}, report_slices"))
    return taken


def vacuum_rebuilt() -> None:
    """VACUUM the roll-up tables after a rebuild has committed (outside any transaction).

    A rebuild leaves every old row dead, and its new rows' pages are not yet marked
    all-visible, so the reports' index-only reads would visit the table for every row until
    autovacuum came by. Minutes at a million leads, once, instead of slow reports meanwhile.
    """
    tables = ", ".join([*STATEMENTS, "report_slices"])
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("SET statement_timeout = 0"))
        try:
            connection.execute(sa.text(f"VACUUM (ANALYZE) {tables}"))
        finally:  # the connection goes back to the pool: with the app's timeout again
            connection.execute(sa.text("RESET statement_timeout"))
