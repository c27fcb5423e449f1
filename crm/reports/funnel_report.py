"""The funnel report: a cohort's stages against the period before, losses, breakdown, trend."""

from dataclasses import dataclass

from markupsafe import Markup

from crm.reports.charts import bar_chart, line_chart
from crm.reports.tables import (
    STAGE_LABELS,
    Period,
    Table,
    lost_label,
    share,
    value_label,
)
from crm.services.rollups import reports
from crm.services.rollups.fold import FUNNEL

SUBMISSIONS = "Forms sent"


@dataclass(frozen=True)
class FunnelReport:
    period: Period
    previous: Period
    tables: dict[str, Table]
    funnel_chart: Markup
    trend_chart: Markup


def funnel_report(
    period: Period, by: str, by_label: str, filters: dict, names: dict[int, str]
) -> FunnelReport:
    """Every table and chart of the funnel page, for leads created in the period."""
    previous = period.previous()
    figures = reports.funnel_page(
        (period.start, period.end), (previous.start, previous.end), by, filters
    )
    now, before = figures.now, figures.before
    trend = reports.funnel_trend(period.start, period.end, **filters)
    # Submissions are counted by day and form only: with any other filter, left out.
    sent = (
        reports.submissions_by_day(period.start, period.end, filters.get("form"))
        if set(filters) <= {"form"}
        else None
    )
    tables = {
        "funnel": _stages_table(now, before),
        "lost": _lost_table(now, before),
        "breakdown": _breakdown_table(figures.breakdown, by, by_label, names),
        "trend": _trend_table(period, trend, sent),
    }
    funnel_chart = bar_chart(
        "funnel-chart",
        f"Funnel of the leads created from {period}",
        [(STAGE_LABELS[stage], now.reached[stage]) for stage in FUNNEL],
    )
    days = period.each_day()
    empty = dict.fromkeys(FUNNEL, 0)
    lines = {
        STAGE_LABELS[stage]: [trend.get(day, empty)[stage] for day in days] for stage in FUNNEL
    }
    if sent is not None:
        lines = {SUBMISSIONS: [sent.get(day, 0) for day in days], **lines}
    trend_chart = line_chart(
        "trend-chart",
        f"Daily trend from {period}: forms sent, leads by the day they came in, and the stages"
        " those leads reached",
        [day.isoformat() for day in days],
        lines,
    )
    return FunnelReport(period, previous, tables, funnel_chart, trend_chart)


def _stages_table(now: reports.Funnel, before: reports.Funnel) -> Table:
    rows = []
    for number, stage in enumerate(FUNNEL):
        above = FUNNEL[number - 1] if number else None
        rows.append(
            (
                STAGE_LABELS[stage],
                now.reached[stage],
                share(now.reached[stage], now.reached[above]) if above else "",
                before.reached[stage],
                share(before.reached[stage], before.reached[above]) if above else "",
                now.reached[stage] - before.reached[stage],
            )
        )
    return Table(
        "funnel",
        "Stages reached",
        (
            "Stage",
            "Leads",
            "Conversion from the stage before",
            "Previous period",
            "Previous conversion",
            "Change in leads",
        ),
        rows,
    )


def _lost_table(now: reports.Funnel, before: reports.Funnel) -> Table:
    reasons = sorted(set(now.lost) | set(before.lost))
    rows = [
        (
            lost_label(reason),
            now.lost.get(reason, 0),
            before.lost.get(reason, 0),
            now.lost.get(reason, 0) - before.lost.get(reason, 0),
        )
        for reason in reasons
    ]
    return Table(
        "lost",
        "Closed without help, by reason",
        ("Reason", "Leads", "Previous period", "Change"),
        rows,
        note="A lead lost and later helped counts here and in the funnel.",
    )


def _breakdown_table(
    per_value: dict[object, reports.Funnel], by: str, by_label: str, names: dict[int, str]
) -> Table:
    rows = [
        (
            value_label(by, value, names),
            *(funnel.reached[stage] for stage in FUNNEL),
            share(funnel.reached["helped"], funnel.leads),
        )
        for value, funnel in per_value.items()
    ]
    # Most leads first; equal counts by name, so the order is the same on every request.
    rows.sort(key=lambda row: (-row[1], row[0]))
    return Table(
        "breakdown",
        f"By {by_label.lower()}",
        (by_label, *(STAGE_LABELS[stage] for stage in FUNNEL), "Helped / leads"),
        rows,
    )


def _trend_table(period: Period, trend: dict, sent: dict | None) -> Table:
    empty = dict.fromkeys(FUNNEL, 0)
    rows = [
        (
            day.isoformat(),
            *(() if sent is None else (sent.get(day, 0),)),
            *(trend.get(day, empty)[stage] for stage in FUNNEL),
        )
        for day in period.each_day()
    ]
    return Table(
        "trend",
        "Day by day",
        (
            "Day",
            *(() if sent is None else (SUBMISSIONS,)),
            *(STAGE_LABELS[stage] for stage in FUNNEL),
        ),
        rows,
        note=(
            "Forms sent counts every form that came in that day, from new and returning"
            " people. The stages count the leads created that day, by how far they got."
            + (
                ""
                if sent is not None
                else " Forms sent are counted by form only: not shown with these filters."
            )
        ),
    )
