"""The chat roll-ups in two set-based statements, for set_based.rebuild_in_sql (PostgreSQL).

What chat_fold.py gives once it has read every chat a taken row names: a chat is in
rollup_chats if the chats walk took it or a taken system message names it, at the stage it is
in now; chat_daily holds every part of that stage (chat_fold.parts from nothing counted).
chat_daily reads the stage from rollup_chats, not the chat's status again: a chat that moves
between the two statements is then counted as far as rollup_chats says, and the next refresh
adds the rest, as the fold would.
"""

from collections.abc import Callable

from crm.models.enums import ChatSender
from crm.services.rollups.chat_fold import (
    ACTIVE,
    ENDED,
    HANDLING_BOUNDS,
    HOURLY,
    STAGE_OF,
    WAIT_BOUNDS,
)

_ROLLUP_CHATS = """
INSERT INTO rollup_chats (chat_id, stage)
SELECT c.id, stages.stage
FROM chats AS c
JOIN unnest(CAST(:chat_statuses AS text[]), CAST(:chat_stages AS text[])) AS stages (status, stage)
  ON stages.status = c.status
WHERE c.id <= :chats
   OR c.id IN (SELECT chat_id FROM chat_messages WHERE id <= :chat_messages AND sender = :system)
"""

# Whole seconds, truncated, as chat_fold.parts's int(total_seconds()) for times in order.
_WAIT = "floor(extract(epoch FROM c.claimed_at - c.created_at))::bigint"
_HANDLED = "floor(extract(epoch FROM c.closed_at - c.claimed_at))::bigint"
_HOUR = "lpad(CAST(extract(hour FROM c.created_at AT TIME ZONE :tz) AS integer)::text, 2, '0')"
_CHAT_DAILY = """
INSERT INTO chat_daily (day, measure, advocate_id, value, chats, seconds_total)
SELECT (c.created_at AT TIME ZONE :tz)::date, p.measure, p.advocate_id, p.value, count(*),
       sum(p.seconds)
FROM rollup_chats AS r JOIN chats AS c ON c.id = r.chat_id
CROSS JOIN LATERAL (VALUES
  ('started', 0, {hour}, CAST(0 AS bigint), true),
  ('lead', 0, '', 0, c.contact_id IS NOT NULL),
  ('wait', 0, CAST({wait_bucket} AS text), {wait}, r.stage IN ('{active}', '{ended}')
                                                  AND c.claimed_at IS NOT NULL),
  ('accepted', c.claimed_by_user_id, '', {wait}, r.stage IN ('{active}', '{ended}')
                                                AND c.claimed_at IS NOT NULL),
  ('missed', 0, {hour}, 0, r.stage = '{ended}' AND c.status = 'missed'),
  ('closed', c.claimed_by_user_id, CAST(c.outcome AS text), 0,
   r.stage = '{ended}' AND c.status = 'closed'),
  ('handled', c.claimed_by_user_id, CAST({handled_bucket} AS text), {handled},
   r.stage = '{ended}' AND c.status = 'closed')
) AS p (measure, advocate_id, value, seconds, counted)
WHERE p.counted
GROUP BY 1, 2, 3, 4
"""


# The 1-day "chats" slices from chat_daily, as chat_fold.slices_of spreads each row (the
# longer spans are summed from these with every other family's).
SLICES = """
INSERT INTO report_slices (family, dimension, span, day, value, measure, n, total)
SELECT :family, d.dimension, 1, t.day, d.value, d.measure, sum(t.chats), sum(t.seconds_total)
FROM chat_daily AS t CROSS JOIN LATERAL (VALUES
  ('', '', t.measure || '/' || CASE WHEN t.measure IN ({hourly}) THEN '' ELSE t.value END,
   true),
  ('advocate_id', CAST(t.advocate_id AS text), t.measure || '/' || t.value, t.advocate_id <> 0),
  ('hour', t.value, t.measure, t.measure IN ({hourly}))
) AS d (dimension, value, measure, counted)
WHERE d.counted
GROUP BY d.dimension, t.day, d.value, d.measure
""".format(hourly=", ".join(f"'{measure}'" for measure in HOURLY))


def statements(bucket: Callable[[str, str], str]) -> dict[str, str]:
    """The statements by table they fill, given set_based's SQL bucket expression."""
    return {
        "rollup_chats": _ROLLUP_CHATS,
        "chat_daily": _CHAT_DAILY.format(
            hour=_HOUR,
            wait=_WAIT,
            handled=_HANDLED,
            wait_bucket=bucket(_WAIT, "wait_bounds"),
            handled_bucket=bucket(_HANDLED, "handling_bounds"),
            active=ACTIVE,
            ended=ENDED,
        ),
    }


def parameters() -> dict:
    statuses = list(STAGE_OF)
    return {
        "chat_statuses": [status.value for status in statuses],
        "chat_stages": [STAGE_OF[status] for status in statuses],
        "system": ChatSender.system.value,
        "wait_bounds": list(WAIT_BOUNDS),
        "handling_bounds": list(HANDLING_BOUNDS),
    }
