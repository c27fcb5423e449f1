"""Report slices: the daily roll-ups summed over power-of-two blocks of days, per dimension.

Why: funnel_daily's grain (day x eight dimensions x milestone) holds about one row per lead
and milestone, so a month's funnel read hundreds of thousands of rows at a million leads,
and speed_daily and call_daily grow with the days a report spans. A slice sums one measure
over a block of `span` days, for all leads (dimension '') or for one value of one
dimension. Spans are the powers of two from 1 to 1024 days, and a block starts on a
multiple of its span counted from 1970-01-01, so any range of days is the union of at most
about 2 x log2(days) blocks (`blocks`): a report reads a few blocks x values x measures,
whatever the number of leads, and a day's figures (the trend) are its 1-day blocks.

Every change to funnel_daily, speed_daily and call_daily goes through `bump_funnel`,
`bump_speed` and `bump_calls` (chat_daily's through chat_fold.bump_chats), which change the
slices in the same statement batch, so the slices always equal those tables summed. Reports
filtered by more than one dimension (a filter and a breakdown) still read funnel_daily.
"""

from collections.abc import Iterator
from datetime import date, timedelta

from crm.models import CallDaily, FunnelDaily, ReportSlice, SpeedDaily
from crm.services.rollups.upsert import CALL_KEY, DIMENSIONS, FUNNEL_KEY, SPEED_KEY, bump

LEVELS = tuple(2**k for k in range(11))
EPOCH = date(1970, 1, 1)
SLICE_KEY = ("family", "dimension", "span", "day", "value", "measure")


def block_start(day: date, span: int) -> date:
    """The first day of the `span`-day block holding `day`."""
    return day - timedelta(days=(day - EPOCH).days % span)


def blocks(start: date, end: date) -> list[tuple[int, date]]:
    """The fewest aligned blocks that cover start to end, both included: (span, first day)."""
    covering = []
    day = start
    while day <= end:
        span = next(
            span
            for span in reversed(LEVELS)
            if (day - EPOCH).days % span == 0 and day + timedelta(days=span - 1) <= end
        )
        covering.append((span, day))
        day += timedelta(days=span)
    return covering


def as_text(value) -> str:
    """A dimension's value as a slice keeps it ('true'/'false' for the veteran flag)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def from_text(dimension: str, value: str):
    """A slice's value back in its dimension's type (the key columns' types of funnel_daily)."""
    if dimension == "is_veteran":
        return value == "true"
    if dimension == "advocate_id":
        return int(value)
    return value


def _spread(
    family: str, day: date, values: Iterator[tuple[str, str]], measure: str
) -> Iterator[tuple]:
    for dimension, value in values:
        for span in LEVELS:
            yield (family, dimension, span, block_start(day, span), value, measure)


def _bump_slices(deltas: dict[tuple, list[int]]) -> None:
    changed = {key: tuple(amounts) for key, amounts in deltas.items() if any(amounts)}
    bump(ReportSlice, SLICE_KEY, ("n", "total"), changed)


def _add(deltas: dict, keys: Iterator[tuple], n: int, total: int = 0) -> None:
    for key in keys:
        amounts = deltas.setdefault(key, [0, 0])
        amounts[0] += n
        amounts[1] += total


def bump_funnel(counts: dict[tuple, int]) -> None:
    """funnel_daily += counts (keyed by upsert.FUNNEL_KEY), and the funnel slices with it."""
    counts = {key: n for key, n in counts.items() if n}
    bump(FunnelDaily, FUNNEL_KEY, ("contacts",), counts)
    deltas: dict[tuple, list[int]] = {}
    for (day, *values, stage), n in counts.items():
        pairs = [("", ""), *zip(DIMENSIONS, map(as_text, values), strict=True)]
        _add(deltas, _spread("funnel", day, iter(pairs), stage), n)
    _bump_slices(deltas)


def bump_speed(counts: dict[tuple, int]) -> None:
    """speed_daily += counts (keyed by upsert.SPEED_KEY), and the speed slices with it."""
    counts = {key: n for key, n in counts.items() if n}
    bump(SpeedDaily, SPEED_KEY, ("contacts",), counts)
    deltas: dict[tuple, list[int]] = {}
    for (day, form, advocate_id, minutes), n in counts.items():
        pairs = [("", ""), ("form", form), ("advocate_id", as_text(advocate_id))]
        _add(deltas, _spread("speed", day, iter(pairs), str(minutes)), n)
    _bump_slices(deltas)


def call_measure(outcome: str, seconds_bucket: int) -> str:
    return f"{outcome}/{seconds_bucket}"


def bump_calls(per_day: dict[tuple, tuple[int, int]]) -> None:
    """call_daily += (calls, seconds) keyed by upsert.CALL_KEY, and the calls slices with it."""
    bump(CallDaily, CALL_KEY, ("calls", "seconds_total"), per_day)
    deltas: dict[tuple, list[int]] = {}
    for (day, user_id, outcome, seconds_bucket), (calls, seconds) in per_day.items():
        pairs = [("user_id", as_text(user_id))]
        measure = call_measure(outcome, seconds_bucket)
        _add(deltas, _spread("calls", day, iter(pairs), measure), calls, seconds)
    _bump_slices(deltas)


def bump_family(family: str, rows: list[tuple]) -> None:
    """Add rows of (day, dimension, value, measure, n, total) to a family's slices, every span.

    For a family whose daily table decides its own dimensions (chat_fold.py's "chats").
    """
    deltas: dict[tuple, list[int]] = {}
    for day, dimension, value, measure, n, total in rows:
        _add(deltas, _spread(family, day, iter([(dimension, value)]), measure), n, total)
    _bump_slices(deltas)


SUBMITTED = "submitted"


def bump_submissions(per_day: dict[tuple, int]) -> None:
    """Submissions keyed (day, form): family "submissions", for all forms and per form."""
    deltas: dict[tuple, list[int]] = {}
    for (day, form), n in per_day.items():
        _add(deltas, _spread("submissions", day, iter([("", ""), ("form", form)]), SUBMITTED), n)
    _bump_slices(deltas)
