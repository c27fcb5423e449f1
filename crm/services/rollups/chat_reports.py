"""The chat report's figures, read from the "chats" report slices (chat_fold.py says what).

Days are the days chats started in ORG_TIME_ZONE, inclusive at both ends. A period is read
as a few power-of-two blocks of days (slices.py): all chats, per advocate and per hour, a
few hundred rows however many chats there were, in one statement with the period before.
"""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from crm.extensions import db
from crm.models import ReportSlice
from crm.services.rollups.slice_reads import Part, read

FAMILY = "chats"


@dataclass
class ChatTotals:
    """A period's chats: per measure and value, per advocate, per hour of the day."""

    overall: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    advocates: dict[str, dict[int, dict[str, int]]] = field(default_factory=dict)
    hours: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, measure: str) -> int:
        return sum(chats for chats, _ in self.overall.get(measure, {}).values())

    def by_value(self, measure: str) -> dict[str, int]:
        """Chats per value (a bucket or an outcome), all advocates together."""
        return {value: chats for value, (chats, _) in self.overall.get(measure, {}).items()}

    def by_advocate(self, measure: str) -> dict[int, dict[str, int]]:
        """advocate id -> value -> chats (accepted, closed and handled only)."""
        return self.advocates.get(measure, {})

    def by_hour(self, measure: str) -> dict[str, int]:
        """Hour ("07") -> chats (started and missed only)."""
        return self.hours.get(measure, {})


def _fill(totals: ChatTotals, dimension: str, rows) -> None:
    for value, measure, chats, seconds in rows:
        if not chats:
            continue
        if dimension == "hour":
            totals.hours.setdefault(measure, {})[value] = int(chats)
            continue
        name, _, detail = measure.partition("/")
        if dimension == "advocate_id":
            per = totals.advocates.setdefault(name, {}).setdefault(int(value), {})
            per[detail] = int(chats)
        else:
            totals.overall.setdefault(name, {})[detail] = (int(chats), int(seconds))


def report_totals(
    period: tuple[date, date], previous: tuple[date, date]
) -> tuple[ChatTotals, ChatTotals]:
    """The period's chats in full, and the period before's (all chats only)."""
    rows = read(
        {
            "now": Part(FAMILY, "", *period),
            "advocate_id": Part(FAMILY, "advocate_id", *period),
            "hour": Part(FAMILY, "hour", *period),
            "before": Part(FAMILY, "", *previous),
        }
    )
    now, before = ChatTotals(), ChatTotals()
    for label in ("now", "advocate_id", "hour"):
        _fill(now, "" if label == "now" else label, rows[label])
    _fill(before, "", rows["before"])
    return now, before


def totals(start: date, end: date) -> ChatTotals:
    """Every measure of the chats started from start to end."""
    return report_totals((start, end), (start, end))[0]


def daily(start: date, end: date, measures: tuple[str, ...]) -> dict[date, dict[str, int]]:
    """Per start day: measure -> chats, for these measures (all chats: 1-day slices)."""
    query = sa.select(ReportSlice.day, ReportSlice.measure, ReportSlice.n).where(
        ReportSlice.family == FAMILY,
        ReportSlice.dimension == "",
        ReportSlice.span == 1,
        ReportSlice.day.between(start, end),
        ReportSlice.value == "",
        ReportSlice.measure.in_([f"{measure}/" for measure in measures]),
    )
    per_day: dict[date, dict[str, int]] = {}
    for day, measure, chats in db.session.execute(query):
        if chats:
            per_day.setdefault(day, {})[measure.removesuffix("/")] = int(chats)
    return per_day
