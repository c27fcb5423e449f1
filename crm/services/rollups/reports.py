"""The figures the manager reports show, read from the roll-up tables only.

Days are the organisation's (ORG_TIME_ZONE) and inclusive at both ends. Filters name
funnel_daily's dimensions; None in a filter means "no value" (the lead gave none), and a
dimension left out is not filtered. Whatever needs at most one dimension reads the report
slices (slices.py: a few rows whatever the number of leads); a filter combined with a
breakdown, or two filters, reads funnel_daily. `funnel_page` and `speed_page` read all a
page shows in one statement each.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from crm.extensions import db
from crm.models import FunnelDaily, ReportSlice, SpeedDaily
from crm.services.rollups import slices
from crm.services.rollups.figures import (
    NONE,
    AdvocateCalls,
    Funnel,
    SpeedToLead,
    calls_from,
    funnel_from,
    funnels_by,
    shown,
    speed_from,
    speeds_by,
)
from crm.services.rollups.fold import FUNNEL
from crm.services.rollups.slice_reads import Part, daily, read
from crm.services.rollups.upsert import DIMENSIONS

__all__ = ["AdvocateCalls", "Funnel", "SpeedToLead"]


def _filtered(query, model, start: date, end: date, filters: dict):
    query = query.where(model.day.between(start, end))
    for name, value in filters.items():
        _check(name)
        column = getattr(model, name)
        query = query.where(column == (NONE.get(name, "") if value is None else value))
    return query


def _check(dimension: str) -> None:
    if dimension not in DIMENSIONS:
        raise ValueError(f"no such dimension: {dimension}")


def _funnel_part(start: date, end: date, filters: dict) -> Part:
    """The slices read for a funnel with no filter or a single one."""
    if not filters:
        return Part("funnel", "", start, end)
    ((name, value),) = filters.items()
    _check(name)
    return Part(
        "funnel", name, start, end, slices.as_text(NONE.get(name, "") if value is None else value)
    )


def _counts(rows) -> dict[str, int]:
    return {measure: n for _, measure, n, _ in rows}


def funnel(start: date, end: date, **filters) -> Funnel:
    """The funnel of the leads created from `start` to `end`, filtered by dimensions."""
    if len(filters) <= 1:
        return funnel_from(_counts(read({"": _funnel_part(start, end, filters)})[""]))
    query = _filtered(
        sa.select(FunnelDaily.stage, sa.func.sum(FunnelDaily.contacts)).group_by(FunnelDaily.stage),
        FunnelDaily,
        start,
        end,
        filters,
    )
    return funnel_from(dict(db.session.execute(query).all()))


def funnel_by(dimension: str, start: date, end: date, **filters) -> dict[object, Funnel]:
    """One funnel per value of a dimension (form, source, ..., advocate_id)."""
    _check(dimension)
    if not filters:
        return funnels_by(dimension, read({"": Part("funnel", dimension, start, end)})[""])
    column = getattr(FunnelDaily, dimension)
    query = _filtered(
        sa.select(column, FunnelDaily.stage, sa.func.sum(FunnelDaily.contacts)).group_by(
            column, FunnelDaily.stage
        ),
        FunnelDaily,
        start,
        end,
        filters,
    )
    per_value: dict[object, dict[str, int]] = {}
    for value, stage, n in db.session.execute(query):
        if n:
            per_value.setdefault(shown(dimension, value), {})[stage] = n
    return {value: funnel_from(counts) for value, counts in per_value.items()}


def funnel_trend(start: date, end: date, **filters) -> dict[date, dict[str, int]]:
    """Per cohort day, the leads of that day that reached each funnel stage."""
    if len(filters) <= 1:
        part = _funnel_part(start, end, filters)
        query = daily("funnel", part.dimension, start, end, part.value or "")
        query = query.where(ReportSlice.measure.in_(FUNNEL))
    else:
        query = _filtered(
            sa.select(FunnelDaily.day, FunnelDaily.stage, sa.func.sum(FunnelDaily.contacts))
            .where(FunnelDaily.stage.in_(FUNNEL))
            .group_by(FunnelDaily.day, FunnelDaily.stage),
            FunnelDaily,
            start,
            end,
            filters,
        )
    trend: dict[date, dict[str, int]] = {}
    for day, stage, n in db.session.execute(query):
        trend.setdefault(day, dict.fromkeys(FUNNEL, 0))[stage] = int(n)
    return dict(sorted(trend.items()))


def submissions_by_day(start: date, end: date, form: str | None = None) -> dict[date, int]:
    """Forms sent per day (new leads and returning people alike; corrections left out)."""
    dimension, value = ("form", form) if form is not None else ("", "")
    query = daily("submissions", dimension, start, end, value)
    return {day: int(n) for day, _, n in db.session.execute(query) if n}


@dataclass(frozen=True)
class FunnelPage:
    now: Funnel
    before: Funnel
    breakdown: dict[object, Funnel]


def funnel_page(
    period: tuple[date, date], previous: tuple[date, date], by: str, filters: dict
) -> FunnelPage:
    """A period's funnel, the previous period's and the breakdown, in one read if filters allow."""
    _check(by)
    if len(filters) > 1:
        return FunnelPage(
            funnel(*period, **filters),
            funnel(*previous, **filters),
            funnel_by(by, *period, **filters),
        )
    parts = {"now": _funnel_part(*period, filters), "before": _funnel_part(*previous, filters)}
    if not filters:
        parts["by"] = Part("funnel", by, *period)
    rows = read(parts)
    breakdown = funnels_by(by, rows["by"]) if not filters else funnel_by(by, *period, **filters)
    return FunnelPage(
        funnel_from(_counts(rows["now"])), funnel_from(_counts(rows["before"])), breakdown
    )


def speed_to_lead(
    start: date,
    end: date,
    target_minutes: int,
    *,
    form: str | None = None,
    advocate_id: int | None = None,
) -> SpeedToLead:
    """Median, p90 and share within target of lead-to-first-call, for a cohort's leads.

    The share is exact for any whole-minute target up to an hour (one bucket per minute).
    `leads` is the cohort's leads (of that form, if one is named).
    """
    leads = _funnel_part(start, end, {"form": form} if form is not None else {})
    if form is not None and advocate_id is not None:
        query = (
            sa.select(SpeedDaily.minutes_bucket, sa.func.sum(SpeedDaily.contacts))
            .where(
                SpeedDaily.day.between(start, end),
                SpeedDaily.form == form,
                SpeedDaily.advocate_id == advocate_id,
            )
            .group_by(SpeedDaily.minutes_bucket)
        )
        histogram = dict(db.session.execute(query).all())
        rows = read({"leads": leads})
    else:
        dimension, value = ("form", form) if form is not None else ("advocate_id", advocate_id)
        speed = (
            Part("speed", dimension, start, end, slices.as_text(value))
            if value is not None
            else Part("speed", "", start, end)
        )
        rows = read({"leads": leads, "speed": speed})
        histogram = _counts(rows["speed"])
    return speed_from(_counts(rows["leads"]).get("new", 0), histogram, target_minutes)


def speed_by(dimension: str, start: date, end: date, target_minutes: int) -> dict:
    """speed_to_lead per form or per advocate who made the first call, in one statement.

    `leads` is the cohort's leads of that form, or those assigned to that advocate now. Every
    form with leads has an entry; an advocate has one only if they made a first call.
    """
    if dimension not in ("form", "advocate_id"):
        raise ValueError(f"speed-to-lead has no dimension {dimension}")
    rows = read(
        {
            "speed": Part("speed", dimension, start, end),
            "leads": Part("funnel", dimension, start, end),
        }
    )
    return speeds_by(dimension, rows["speed"], rows["leads"], target_minutes)


def advocate_calls(start: date, end: date) -> list[AdvocateCalls]:
    """Per advocate: calls logged, reached, handling time, on the days from start to end."""
    return calls_from(read({"": Part("calls", "user_id", start, end)})[""])


@dataclass(frozen=True)
class SpeedPage:
    overall: SpeedToLead
    by_form: dict[object, SpeedToLead]
    by_advocate: dict[object, SpeedToLead]
    calls: list[AdvocateCalls]


def speed_page(start: date, end: date, target_minutes: int) -> SpeedPage:
    """speed_to_lead overall, speed_by form and advocate, advocate_calls: one statement.

    Every lead has one form ('' when none is known), so the overall figures are the sums of
    the per-form rows: no separate read for them.
    """
    parts = {}
    for dimension in ("form", "advocate_id"):
        parts[f"speed {dimension}"] = Part("speed", dimension, start, end)
        parts[f"leads {dimension}"] = Part("funnel", dimension, start, end)
    parts["calls"] = Part("calls", "user_id", start, end)
    rows = read(parts)
    histogram: dict[str, int] = {}
    for _, minutes, n, _ in rows["speed form"]:
        histogram[minutes] = histogram.get(minutes, 0) + n
    leads = sum(n for _, stage, n, _ in rows["leads form"] if stage == "new")
    return SpeedPage(
        overall=speed_from(leads, histogram, target_minutes),
        by_form=speeds_by("form", rows["speed form"], rows["leads form"], target_minutes),
        by_advocate=speeds_by(
            "advocate_id", rows["speed advocate_id"], rows["leads advocate_id"], target_minutes
        ),
        calls=calls_from(rows["calls"]),
    )
