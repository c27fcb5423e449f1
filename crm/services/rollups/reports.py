"""The figures the manager reports show, read from the roll-up tables only.

Days are the organisation's (ORG_TIME_ZONE) and inclusive at both ends. Filters name
funnel_daily's dimensions; None in a filter means "no value" (the lead gave none), and a
dimension left out is not filtered.
"""

from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallDaily, FunnelDaily, SpeedDaily
from crm.models.enums import CallOutcome
from crm.services.rollups.buckets import (
    MINUTE_BOUNDS,
    SECOND_BOUNDS,
    Bucket,
    count_below,
    nearest_rank,
)
from crm.services.rollups.fold import DIMENSIONS, FUNNEL, LOST

# What stands for "none" in a key column (see crm/models/rollup.py).
_NONE = {"advocate_id": 0, "is_veteran": False}


@dataclass(frozen=True)
class Funnel:
    """Leads of a cohort that reached each stage, the step conversions and the losses."""

    reached: dict[str, int]  # every FUNNEL stage, in order
    conversions: dict[str, float | None]  # stage -> share of the stage before that reached it
    lost: dict[str, int]  # close outcome -> leads lost for it

    @property
    def leads(self) -> int:
        return self.reached["new"]


@dataclass(frozen=True)
class SpeedToLead:
    """Time from lead to first call, for the leads of a cohort that were called."""

    leads: int
    attempted: int
    within_target: int
    median: Bucket | None  # minutes
    p90: Bucket | None

    @property
    def share_within_target(self) -> float | None:
        return self.within_target / self.attempted if self.attempted else None


@dataclass(frozen=True)
class AdvocateCalls:
    """One advocate's calls over a period."""

    user_id: int
    calls: int
    reached: int
    seconds_total: int
    median_handling: Bucket | None  # seconds, over every call logged


def _filtered(query, model, start: date, end: date, filters: dict):
    query = query.where(model.day.between(start, end))
    for name, value in filters.items():
        if name not in DIMENSIONS:
            raise ValueError(f"no such dimension: {name}")
        column = getattr(model, name)
        query = query.where(column == (_NONE.get(name, "") if value is None else value))
    return query


def _stored(name: str, value):
    """A key column's value as a report shows it: None where the lead had none."""
    return None if value == _NONE.get(name, "") and name != "is_veteran" else value


def funnel(start: date, end: date, **filters) -> Funnel:
    """The funnel of the leads created from `start` to `end`, filtered by dimensions."""
    query = _filtered(
        sa.select(FunnelDaily.stage, sa.func.sum(FunnelDaily.contacts)).group_by(FunnelDaily.stage),
        FunnelDaily,
        start,
        end,
        filters,
    )
    return _funnel_from(dict(db.session.execute(query).all()))


def _funnel_from(counts: dict[str, int]) -> Funnel:
    reached = {stage: int(counts.get(stage) or 0) for stage in FUNNEL}
    conversions = {
        stage: (reached[stage] / reached[before] if reached[before] else None)
        for before, stage in pairwise(FUNNEL)
    }
    lost = {
        stage.removeprefix(LOST): int(n)
        for stage, n in sorted(counts.items())
        if stage.startswith(LOST) and n
    }
    return Funnel(reached, conversions, lost)


def funnel_by(dimension: str, start: date, end: date, **filters) -> dict[object, Funnel]:
    """One funnel per value of a dimension (form, source, ..., advocate_id)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"no such dimension: {dimension}")
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
        per_value.setdefault(_stored(dimension, value), {})[stage] = n
    return {value: _funnel_from(counts) for value, counts in per_value.items()}


def funnel_trend(start: date, end: date, **filters) -> dict[date, dict[str, int]]:
    """Per cohort day, the leads of that day that reached each funnel stage."""
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
    """
    query = sa.select(SpeedDaily.minutes_bucket, sa.func.sum(SpeedDaily.contacts)).where(
        SpeedDaily.day.between(start, end)
    )
    if form is not None:
        query = query.where(SpeedDaily.form == form)
    if advocate_id is not None:
        query = query.where(SpeedDaily.advocate_id == advocate_id)
    histogram = {
        low: int(n) for low, n in db.session.execute(query.group_by(SpeedDaily.minutes_bucket)) if n
    }
    leads = funnel(start, end, **({"form": form} if form is not None else {})).leads
    return SpeedToLead(
        leads=leads,
        attempted=sum(histogram.values()),
        within_target=count_below(histogram, target_minutes, MINUTE_BOUNDS),
        median=nearest_rank(histogram, 0.5, MINUTE_BOUNDS),
        p90=nearest_rank(histogram, 0.9, MINUTE_BOUNDS),
    )


def advocate_calls(start: date, end: date) -> list[AdvocateCalls]:
    """Per advocate: calls logged, reached, handling time, on the days from start to end."""
    rows = db.session.execute(
        sa.select(
            CallDaily.user_id,
            CallDaily.outcome,
            CallDaily.seconds_bucket,
            sa.func.sum(CallDaily.calls),
            sa.func.sum(CallDaily.seconds_total),
        )
        .where(CallDaily.day.between(start, end))
        .group_by(CallDaily.user_id, CallDaily.outcome, CallDaily.seconds_bucket)
    ).all()
    per_user: dict[int, dict] = {}
    for user_id, outcome, low, calls, seconds in rows:
        totals = per_user.setdefault(user_id, {"calls": 0, "reached": 0, "seconds": 0, "h": {}})
        totals["calls"] += int(calls)
        totals["seconds"] += int(seconds)
        if outcome == CallOutcome.reached.value:
            totals["reached"] += int(calls)
        totals["h"][low] = totals["h"].get(low, 0) + int(calls)
    return [
        AdvocateCalls(
            user_id=user_id,
            calls=t["calls"],
            reached=t["reached"],
            seconds_total=t["seconds"],
            median_handling=nearest_rank(t["h"], 0.5, SECOND_BOUNDS),
        )
        for user_id, t in sorted(per_user.items())
    ]


def speed_by(dimension: str, start: date, end: date, target_minutes: int) -> dict:
    """speed_to_lead per form or per advocate who made the first call, in two queries.

    `leads` is the cohort's leads of that form, or those assigned to that advocate now. Every
    form with leads has an entry; an advocate has one only if they made a first call.
    """
    if dimension not in ("form", "advocate_id"):
        raise ValueError(f"speed-to-lead has no dimension {dimension}")
    column = getattr(SpeedDaily, dimension)
    query = (
        sa.select(column, SpeedDaily.minutes_bucket, sa.func.sum(SpeedDaily.contacts))
        .where(SpeedDaily.day.between(start, end))
        .group_by(column, SpeedDaily.minutes_bucket)
    )
    histograms: dict[object, dict[int, int]] = {}
    for value, low, n in db.session.execute(query):
        if n:
            histograms.setdefault(_stored(dimension, value), {})[low] = int(n)
    leads = {value: f.leads for value, f in funnel_by(dimension, start, end).items()}
    if dimension == "form":
        for value in leads:
            histograms.setdefault(value, {})
    return {
        value: SpeedToLead(
            leads=leads.get(value, 0),
            attempted=sum(histogram.values()),
            within_target=count_below(histogram, target_minutes, MINUTE_BOUNDS),
            median=nearest_rank(histogram, 0.5, MINUTE_BOUNDS),
            p90=nearest_rank(histogram, 0.9, MINUTE_BOUNDS),
        )
        for value, histogram in sorted(histograms.items(), key=lambda item: str(item[0]))
    }
