"""What the reports show, and how it is made from roll-up rows (no queries here)."""

from dataclasses import dataclass
from itertools import pairwise

from crm.models.enums import CallOutcome
from crm.services.rollups import slices
from crm.services.rollups.buckets import (
    MINUTE_BOUNDS,
    SECOND_BOUNDS,
    Bucket,
    count_below,
    nearest_rank,
)
from crm.services.rollups.fold import FUNNEL, LOST

_REACHED = CallOutcome.reached.value
# What stands for "none" in a key column (see crm/models/rollup.py).
NONE = {"advocate_id": 0, "is_veteran": False}


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


def shown(name: str, value):
    """A key column's value as a report shows it: None where the lead had none."""
    return None if value == NONE.get(name, "") and name != "is_veteran" else value


def funnel_from(counts: dict[str, int]) -> Funnel:
    """A funnel from milestone -> leads."""
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


def per_value(dimension: str, rows) -> dict[object, dict[str, int]]:
    """(slice value, measure, n, ...) rows as {value as shown: {measure: n}}, zeros left out."""
    by_text: dict[str, dict[str, int]] = {}
    for value, measure, n, *_ in rows:
        if n:
            by_text.setdefault(value, {})[measure] = int(n)
    return {shown(dimension, slices.from_text(dimension, v)): c for v, c in by_text.items()}


def funnels_by(dimension: str, rows) -> dict[object, Funnel]:
    return {value: funnel_from(counts) for value, counts in per_value(dimension, rows).items()}


def speed_from(leads: int, histogram: dict, target_minutes: int) -> SpeedToLead:
    """Speed-to-lead from a minutes histogram {bucket low (int or text): leads}."""
    histogram = {int(low): n for low, n in histogram.items() if n}
    return SpeedToLead(
        leads=leads,
        attempted=sum(histogram.values()),
        within_target=count_below(histogram, target_minutes, MINUTE_BOUNDS),
        median=nearest_rank(histogram, 0.5, MINUTE_BOUNDS),
        p90=nearest_rank(histogram, 0.9, MINUTE_BOUNDS),
    )


def speeds_by(dimension: str, speed_rows, lead_rows, target_minutes: int) -> dict:
    """speed_from per value of form or advocate_id: speed slices and funnel slices rows.

    Every form with leads has an entry; an advocate has one only if they made a first call.
    """
    histograms = per_value(dimension, speed_rows)
    leads = {value: f.leads for value, f in funnels_by(dimension, lead_rows).items()}
    if dimension == "form":
        for value in leads:
            histograms.setdefault(value, {})
    return {
        value: speed_from(leads.get(value, 0), histogram, target_minutes)
        for value, histogram in sorted(histograms.items(), key=lambda item: str(item[0]))
    }


def calls_from(rows) -> list[AdvocateCalls]:
    """Per advocate, from calls slices rows (user id, "outcome/seconds bucket", calls, seconds)."""
    per_user: dict[int, dict] = {}
    for user, measure, calls, seconds in rows:
        outcome, low = measure.split("/")
        totals = per_user.setdefault(int(user), {"calls": 0, "reached": 0, "seconds": 0, "h": {}})
        totals["calls"] += int(calls)
        totals["seconds"] += int(seconds)
        if outcome == _REACHED:
            totals["reached"] += int(calls)
        totals["h"][int(low)] = totals["h"].get(int(low), 0) + int(calls)
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
