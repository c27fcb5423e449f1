"""The chat report's figures, read from chat_daily only (chat_fold.py says what it holds).

Days are the days chats started in ORG_TIME_ZONE, inclusive at both ends. A period reads
its days' rows along chat_daily's primary key (the day first): about 24 + 24 hour rows, a
few dozen wait buckets and, per advocate on duty, an accepted row, an outcome row each and
their handling buckets: a few hundred rows a day however many chats there were.
"""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from crm.extensions import db
from crm.models import ChatDaily


@dataclass
class ChatTotals:
    """A period's chat_daily rows summed: measure -> (advocate id, value) -> (chats, seconds)."""

    rows: dict[str, dict[tuple[int, str], tuple[int, int]]] = field(default_factory=dict)

    def count(self, measure: str) -> int:
        return sum(chats for chats, _ in self.rows.get(measure, {}).values())

    def by_value(self, measure: str) -> dict[str, int]:
        """Chats per value, all advocates together."""
        summed: dict[str, int] = {}
        for (_, value), (chats, _) in self.rows.get(measure, {}).items():
            summed[value] = summed.get(value, 0) + chats
        return summed

    def by_advocate(self, measure: str) -> dict[int, dict[str, int]]:
        """advocate id -> value -> chats."""
        per: dict[int, dict[str, int]] = {}
        for (advocate, value), (chats, _) in self.rows.get(measure, {}).items():
            per.setdefault(advocate, {})[value] = chats
        return per


def totals(start: date, end: date) -> ChatTotals:
    """Every measure of the chats started from start to end, summed over the days."""
    query = (
        sa.select(
            ChatDaily.measure,
            ChatDaily.advocate_id,
            ChatDaily.value,
            sa.func.sum(ChatDaily.chats),
            sa.func.sum(ChatDaily.seconds_total),
        )
        .where(ChatDaily.day.between(start, end))
        .group_by(ChatDaily.measure, ChatDaily.advocate_id, ChatDaily.value)
    )
    found = ChatTotals()
    for measure, advocate, value, chats, seconds in db.session.execute(query):
        if chats:
            found.rows.setdefault(measure, {})[(advocate, value)] = (int(chats), int(seconds))
    return found


def daily(start: date, end: date, measures: tuple[str, ...]) -> dict[date, dict[str, int]]:
    """Per start day: measure -> chats, for these measures."""
    query = (
        sa.select(ChatDaily.day, ChatDaily.measure, sa.func.sum(ChatDaily.chats))
        .where(ChatDaily.day.between(start, end), ChatDaily.measure.in_(measures))
        .group_by(ChatDaily.day, ChatDaily.measure)
    )
    per_day: dict[date, dict[str, int]] = {}
    for day, measure, chats in db.session.execute(query):
        if chats:
            per_day.setdefault(day, {})[measure] = int(chats)
    return per_day
