"""Fold chats into chat_daily: started, accepted, missed, closed by outcome, waits and handling.

Chats are not append-only: one row goes waiting -> active -> closed, or waiting -> missed.
Each step after the start is an UPDATE that writes a system message in the same transaction
(crm/services/chat/handling.py), and the messages are append-only with ids. So the fold walks
two streams past their watermarks (streams.py): new chats, and messages, whose system ones
name a chat that moved. Either way the chat's row is read as it is now and compared with
rollup_chats, the stage already counted, and only the parts not yet counted are added:

- at its start: "started" under the hour it started (ORG_TIME_ZONE), and "lead" if the
  visitor left an email or phone (the contact is set when the chat opens, never later);
- once accepted: "wait" under its wait bucket (all advocates), "accepted" under its advocate;
- once ended: "missed" under the hour it started, or "closed" under its advocate and outcome
  and "handled" under its advocate and handling-time bucket (accepted to closed).

Every count is on the day the chat started (a cohort, like the funnel): the day's row says
how that day's chats went. Reading the chat again however often a message names it gives
the same counts, and the set-based rebuild (chat_sql.py) gives what this gives.

Wait seconds are kept in buckets (WAIT_BOUNDS), not per chat: the report's median and p90
come from a few dozen rows per day (exact to the bucket: 5 s under five minutes), and the
share answered within CHAT_ANSWER_TARGET_SECONDS is exact when the target is a bound (any
multiple of 5 s up to five minutes, of 30 s up to fifteen). chat_daily is summed again into
report slices (slices.py, family "chats": all chats, per advocate, per hour), so a period
reads a few blocks of days, not a row per day. Reading the period's chats instead (along an
index on their start) is some 130,000 rows a month at a chat every 20 seconds: about 40
times slower at a million chats (bench/chat_reports.py measures both).
"""

from collections.abc import Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import Chat, ChatDaily, RollupChat
from crm.models.enums import ChatSender, ChatStatus
from crm.services.rollups import slices
from crm.services.rollups.buckets import SECOND_BOUNDS, bucket_of
from crm.services.rollups.upsert import bump

# Waits end at CHAT_MISSED_MINUTES (15 by default): fine steps below, coarse above.
WAIT_BOUNDS = (*range(0, 300, 5), *range(300, 900, 30), *range(900, 3600, 300), 3600, 7200)
HANDLING_BOUNDS = SECOND_BOUNDS
KEY = ("day", "measure", "advocate_id", "value")
AMOUNTS = ("chats", "seconds_total")
WAITING, ACTIVE, ENDED = "waiting", "active", "ended"
# Measures kept per hour of the day the chat started (value), for staffing.
HOURLY = ("started", "missed")
STAGE_OF = {
    ChatStatus.waiting: WAITING,
    ChatStatus.active: ACTIVE,
    ChatStatus.closed: ENDED,
    ChatStatus.missed: ENDED,
}
_COLUMNS = (
    Chat.id,
    Chat.status,
    Chat.contact_id,
    Chat.claimed_by_user_id,
    Chat.created_at,
    Chat.claimed_at,
    Chat.closed_at,
    Chat.outcome,
)


def hour_text(hour: int) -> str:
    """An hour of the day as chat_daily keys it ("07"), so that the text sorts as the hours."""
    return f"{hour:02d}"


def parts(chat, counted: str | None) -> list[tuple[tuple, int]]:
    """The (chat_daily key, seconds) this chat adds beyond the stage already counted."""
    started = chat.created_at.astimezone(ZoneInfo(current_app.config["ORG_TIME_ZONE"]))
    day, hour = started.date(), hour_text(started.hour)
    stage = STAGE_OF[chat.status]
    found: list[tuple[tuple, int]] = []
    if counted is None:
        found.append(((day, "started", 0, hour), 0))
        if chat.contact_id is not None:
            found.append(((day, "lead", 0, ""), 0))
    if chat.claimed_at is not None and counted in (None, WAITING):
        wait = int((chat.claimed_at - chat.created_at).total_seconds())
        found.append(((day, "wait", 0, str(bucket_of(wait, WAIT_BOUNDS))), wait))
        found.append(((day, "accepted", chat.claimed_by_user_id, ""), wait))
    if stage == ENDED and counted != ENDED:
        if chat.status == ChatStatus.missed:
            found.append(((day, "missed", 0, hour), 0))
        else:
            advocate = chat.claimed_by_user_id
            handled = int((chat.closed_at - chat.claimed_at).total_seconds())
            found.append(((day, "closed", advocate, chat.outcome.value), 0))
            bucket = str(bucket_of(handled, HANDLING_BOUNDS))
            found.append(((day, "handled", advocate, bucket), handled))
    return found


def fold_chats(chat_ids: Iterable[int]) -> None:
    """Count what these chats did since they were last counted (any chat ids, repeats too)."""
    ids = set(chat_ids)
    if not ids:
        return
    counted = {
        row.chat_id: row
        for row in db.session.scalars(sa.select(RollupChat).where(RollupChat.chat_id.in_(ids)))
    }
    deltas: dict[tuple, tuple[int, int]] = {}
    for chat in db.session.execute(sa.select(*_COLUMNS).where(Chat.id.in_(ids))):
        known = counted.get(chat.id)
        stage = STAGE_OF[chat.status]
        if known is not None and known.stage == stage:
            continue
        for key, seconds in parts(chat, known.stage if known else None):
            chats, total = deltas.get(key, (0, 0))
            deltas[key] = (chats + 1, total + seconds)
        if known is None:
            db.session.add(RollupChat(chat_id=chat.id, stage=stage))
        else:
            known.stage = stage
    db.session.flush()
    bump_chats(deltas)


def slices_of(measure: str, advocate_id: int, value: str) -> list[tuple[str, str, str]]:
    """The (dimension, value, measure) report slices a chat_daily row is summed into.

    All chats ('') under "measure/value" (the hour left out: "started/"); each advocate's
    under "advocate_id" the same way; the started and missed per hour under "hour".
    """
    found = [("", "", f"{measure}/{'' if measure in HOURLY else value}")]
    if advocate_id:
        found.append(("advocate_id", str(advocate_id), f"{measure}/{value}"))
    if measure in HOURLY:
        found.append(("hour", value, measure))
    return found


def bump_chats(deltas: dict[tuple, tuple[int, int]]) -> None:
    """chat_daily += (chats, seconds) keyed by KEY, and the "chats" report slices with it."""
    bump(ChatDaily, KEY, AMOUNTS, deltas)
    slices.bump_family(
        "chats",
        [
            (day, dimension, value_, measure_, chats, seconds)
            for (day, measure, advocate_id, value), (chats, seconds) in deltas.items()
            for dimension, value_, measure_ in slices_of(measure, advocate_id, value)
        ],
    )


def fold_new_chats(rows: list) -> None:
    fold_chats(row.id for row in rows)


def fold_chat_messages(rows: list) -> None:
    """Read again the chats these messages' system lines say moved (rows: id, chat_id, sender)."""
    fold_chats(row.chat_id for row in rows if row.sender == ChatSender.system)
