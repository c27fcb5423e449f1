"""The chat report: volume, waits to accept, missed chats, outcomes, advocates and hours.

Every figure counts the chats started in the period (ORG_TIME_ZONE days), however long after
they were accepted or closed (crm/services/rollups/chat_fold.py), and is read from chat_daily.
"""

from dataclasses import dataclass

from markupsafe import Markup

from crm.models.enums import ChatOutcome
from crm.reports.charts import bar_chart, line_chart
from crm.reports.tables import Period, Table, share, span
from crm.services.rollups import chat_reports
from crm.services.rollups.buckets import count_below, nearest_rank
from crm.services.rollups.chat_fold import HANDLING_BOUNDS, WAIT_BOUNDS, hour_text

DAILY = (("started", "Started"), ("accepted", "Accepted"), ("missed", "Missed"))


@dataclass(frozen=True)
class ChatFigures:
    """The headline figures of one period's chats."""

    started: int
    accepted: int
    missed: int
    closed: int
    leads: int
    answered_within: int  # accepted within the target
    wait_median: str
    wait_p90: str
    duration_median: str

    @property
    def answered_or_missed(self) -> int:
        return self.accepted + self.missed


@dataclass(frozen=True)
class ChatReport:
    period: Period
    previous: Period
    target_seconds: int
    tables: dict[str, Table]
    charts: dict[str, Markup]


def _histogram(per_value: dict[str, int]) -> dict[int, int]:
    return {int(low): chats for low, chats in per_value.items() if chats}


def figures(totals: chat_reports.ChatTotals, target_seconds: int) -> ChatFigures:
    waits = _histogram(totals.by_value("wait"))
    handled = _histogram(totals.by_value("handled"))
    return ChatFigures(
        started=totals.count("started"),
        accepted=totals.count("accepted"),
        missed=totals.count("missed"),
        closed=totals.count("closed"),
        leads=totals.count("lead"),
        answered_within=count_below(waits, target_seconds, WAIT_BOUNDS),
        wait_median=span(nearest_rank(waits, 0.5, WAIT_BOUNDS), "s"),
        wait_p90=span(nearest_rank(waits, 0.9, WAIT_BOUNDS), "s"),
        duration_median=span(nearest_rank(handled, 0.5, HANDLING_BOUNDS), "s"),
    )


def chat_report(period: Period, target_seconds: int, names: dict[int, str]) -> ChatReport:
    """The period's chats against the period of the same length before."""
    previous = period.previous()
    now, before = chat_reports.report_totals(
        (period.start, period.end), (previous.start, previous.end)
    )
    per_day = chat_reports.daily(period.start, period.end, tuple(m for m, _ in DAILY))
    days = period.each_day()
    hours = _hours_table(now)
    outcomes = _outcomes_table(now, before)
    tables = {
        "summary": _summary_table(
            figures(now, target_seconds), figures(before, target_seconds), target_seconds
        ),
        "outcomes": outcomes,
        "daily": Table(
            "daily",
            "Per day",
            ("Day", *(title for _, title in DAILY)),
            [
                (day.isoformat(), *(per_day.get(day, {}).get(m, 0) for m, _ in DAILY))
                for day in days
            ],
            note="Chats by the day they started; accepted and missed are of that day's chats.",
        ),
        "advocates": _advocates_table(now, names),
        "hours": hours,
    }
    charts = {
        "daily": line_chart(
            "daily-chart",
            f"Chats per day from {period}: started, accepted and missed",
            [day.isoformat() for day in days],
            {title: [per_day.get(day, {}).get(m, 0) for day in days] for m, title in DAILY},
        ),
        "hours": bar_chart(
            "hours-chart",
            f"Chats started per hour of the day ({period})",
            [(row[0], row[1]) for row in hours.rows],
        ),
        "outcomes": bar_chart(
            "outcomes-chart",
            f"Chats closed from {period}, by outcome",
            [(row[0], row[1]) for row in outcomes.rows],
        ),
    }
    return ChatReport(period, previous, target_seconds, tables, charts)


def _summary_table(now: ChatFigures, before: ChatFigures, target: int) -> Table:
    def row(label: str, name: str) -> tuple:
        return (label, getattr(now, name), getattr(before, name))

    return Table(
        "summary",
        "Chats",
        ("Figure", "This period", "Previous period"),
        [
            row("Started", "started"),
            row("Accepted by an advocate", "accepted"),
            row("Missed (nobody accepted in time)", "missed"),
            row("Closed by an advocate", "closed"),
            row("Became leads (left an email or phone)", "leads"),
            row("Median wait to accept", "wait_median"),
            row("90th percentile wait to accept", "wait_p90"),
            (
                f"Accepted within {target} s (of accepted and missed)",
                share(now.answered_within, now.answered_or_missed),
                share(before.answered_within, before.answered_or_missed),
            ),
            row("Median chat duration (accepted to closed)", "duration_median"),
        ],
        note=(
            "Chats started in the period, however late they were accepted or closed; chats still"
            " waiting or open count as started only. Waits and durations are exact to their"
            " bucket (5 s for waits under five minutes)."
        ),
    )


def _outcomes_table(now: chat_reports.ChatTotals, before: chat_reports.ChatTotals) -> Table:
    closed, closed_before = now.by_value("closed"), before.by_value("closed")
    total = sum(closed.values())
    rows = [
        (
            outcome.label,
            closed.get(outcome.value, 0),
            share(closed.get(outcome.value, 0), total),
            closed_before.get(outcome.value, 0),
        )
        for outcome in ChatOutcome
    ]
    return Table(
        "outcomes",
        "Closed chats by outcome",
        ("Outcome", "Chats", "Share of closed", "Previous period"),
        rows if total or sum(closed_before.values()) else [],
    )


def _advocates_table(now: chat_reports.ChatTotals, names: dict[int, str]) -> Table:
    accepted = now.by_advocate("accepted")
    closed = now.by_advocate("closed")
    handled = now.by_advocate("handled")
    advocates = sorted(set(accepted) | set(closed), key=lambda a: (names.get(a, ""), a))
    rows = []
    for advocate in advocates:
        outcomes = closed.get(advocate, {})
        median = nearest_rank(_histogram(handled.get(advocate, {})), 0.5, HANDLING_BOUNDS)
        rows.append(
            (
                names.get(advocate, f"User {advocate}"),
                sum(accepted.get(advocate, {}).values()),
                sum(outcomes.values()),
                span(median, "s"),
                *(outcomes.get(outcome.value, 0) for outcome in ChatOutcome),
            )
        )
    return Table(
        "advocates",
        "By advocate",
        (
            "Advocate",
            "Accepted",
            "Closed",
            "Median handling time",
            *(outcome.label for outcome in ChatOutcome),
        ),
        rows,
        note="Handling time runs from accepting a chat to closing it.",
    )


def _hours_table(now: chat_reports.ChatTotals) -> Table:
    started, missed = now.by_hour("started"), now.by_hour("missed")
    rows = [
        (f"{hour:02d}:00", started.get(hour_text(hour), 0), missed.get(hour_text(hour), 0))
        for hour in range(24)
    ]
    return Table(
        "hours",
        "By hour of the day",
        ("Hour started", "Started", "Missed"),
        rows if any(row[1] for row in rows) else [],
        note="Hours of the organisation's day: when visitors want to chat, for staffing.",
    )
