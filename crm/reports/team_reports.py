"""Speed-to-lead (with its SLA breaches) and the advocates' report: how fast the team calls."""

from dataclasses import dataclass

from markupsafe import Markup

from crm.reports.charts import bar_chart
from crm.reports.tables import Period, Table, ratio, share, span, value_label
from crm.services import sla_breaches
from crm.services.rollups import reports


@dataclass(frozen=True)
class TeamReport:
    period: Period
    tables: dict[str, Table]
    chart: Markup


def speed_report(period: Period, target: int, names: dict[int, str]) -> TeamReport:
    """Lead to first call by form and by advocate, and how often a call reaches someone."""
    figures = reports.speed_page(period.start, period.end, target)
    overall, by_form, by_advocate = figures.overall, figures.by_form, figures.by_advocate
    calls = figures.calls
    forms = [("All forms", overall)] + [
        (value_label("form", form, names), speed) for form, speed in by_form.items()
    ]
    tables = {
        "forms": Table(
            "forms",
            "Time to first call, by form",
            (
                "Form",
                "Leads",
                "Called",
                "Called / leads",
                "Median",
                "90th percentile",
                f"Called within {target} min",
                "Share within target",
            ),
            [
                (label, s.leads, s.attempted, share(s.attempted, s.leads), *_timing(s))
                for label, s in forms
            ],
            note="Leads created in the period; times from the lead to its first call logged.",
        ),
        "advocates": Table(
            "advocates",
            "Time to first call, by the advocate who made it",
            (
                "Advocate",
                "First calls",
                "Median",
                "90th percentile",
                f"Called within {target} min",
                "Share within target",
            ),
            sorted(
                (
                    (value_label("advocate_id", user_id, names), s.attempted, *_timing(s))
                    for user_id, s in by_advocate.items()
                ),
                key=lambda row: (-row[1], row[0]),
            ),
        ),
        "contact": _contact_table(calls, names),
    }
    chart = bar_chart(
        "speed-chart",
        f"Leads called within {target} minutes, by form, from {period}",
        [(label, _percent(s.within_target, s.attempted)) for label, s in forms],
        unit="%",
    )
    return TeamReport(period, tables, chart)


def _timing(speed: reports.SpeedToLead) -> tuple:
    return (
        span(speed.median, "min"),
        span(speed.p90, "min"),
        speed.within_target,
        share(speed.within_target, speed.attempted),
    )


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0


def _contact_table(calls: list[reports.AdvocateCalls], names: dict[int, str]) -> Table:
    total_calls = sum(row.calls for row in calls)
    total_reached = sum(row.reached for row in calls)
    rows = [
        (value_label("advocate_id", row.user_id, names), row.calls, row.reached) for row in calls
    ]
    rows.sort(key=lambda row: (-row[1], row[0]))
    rows.insert(0, ("All advocates", total_calls, total_reached))
    return Table(
        "contact",
        "Contact rate",
        ("Advocate", "Calls logged", "Reached", "Contact rate", "Calls per reach"),
        [(*row, share(row[2], row[1]), ratio(row[1], row[2])) for row in rows],
        note="Calls logged on the days of the period; a reach is a call with the outcome reached.",
    )


def advocates_report(period: Period, names: dict[int, str]) -> TeamReport:
    """Per advocate: calls logged and reached, handling time, and their leads' progress."""
    calls = {row.user_id: row for row in reports.advocate_calls(period.start, period.end)}
    assigned = reports.funnel_by("advocate_id", period.start, period.end)
    rows = []
    for user_id in sorted(set(calls) | {value for value in assigned if value is not None}):
        logged = calls.get(user_id)
        funnel = assigned.get(user_id)
        rows.append(
            (
                value_label("advocate_id", user_id, names),
                logged.calls if logged else 0,
                logged.reached if logged else 0,
                share(logged.reached, logged.calls) if logged else share(0, 0),
                span(logged.median_handling, "s") if logged else span(None, "s"),
                funnel.leads if funnel else 0,
                funnel.reached["qualified"] if funnel else 0,
                funnel.reached["referred"] if funnel else 0,
            )
        )
    rows.sort(key=lambda row: (-row[1], row[0]))
    table = Table(
        "advocates",
        "Advocates",
        (
            "Advocate",
            "Calls logged",
            "Reached",
            "Contact rate",
            "Median handling time",
            "Leads assigned",
            "Qualified",
            "Referred",
        ),
        rows,
        note=(
            "Calls are those logged on the days of the period. Leads assigned are the leads"
            " created in the period that the advocate owns now; qualified and referred count"
            " those of them that got that far."
        ),
    )
    chart = bar_chart(
        "advocates-chart",
        f"Calls logged per advocate from {period}",
        [(row[0], row[1]) for row in rows],
    )
    return TeamReport(period, {"advocates": table}, chart)


BREACH_TABLES = ("breached-now", "past-breaches")


def breach_table(key: str, period: Period, names: dict[int, str], most: int) -> Table:
    """One of the speed page's breach lists whole (up to `most` rows), as its CSV exports it."""
    if key == "breached-now":
        found = sla_breaches.listed(sla_breaches.now_query(), most)
        return Table(
            key,
            "Breached now",
            ("Contact id", "Due", "Escalated", "Advocate"),
            [
                (b.contact_id, _moment(b.due_at), _moment(b.escalated_at), _owner(b, names))
                for b in found
            ],
        )
    found = sla_breaches.listed(sla_breaches.past_query(period.start, period.end), most)
    return Table(
        key,
        "Past breaches in the period",
        ("Contact id", "Due", "First call", "Minutes to first call", "Advocate"),
        [
            (
                b.contact_id,
                _moment(b.due_at),
                _moment(b.first_attempt_at)
                if b.first_attempt_at
                else f"Never: {b.status.label.lower()} without a call",
                b.waited_minutes if b.first_attempt_at else "",
                _owner(b, names),
            )
            for b in found
        ],
    )


def _moment(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _owner(breach: sla_breaches.Breach, names: dict[int, str]) -> str:
    if breach.advocate_id is None:
        return "Unassigned"
    return names.get(breach.advocate_id, f"#{breach.advocate_id}")
