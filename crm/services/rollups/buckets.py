"""Fixed histogram buckets, so that medians and percentiles come from the roll-ups.

A bucket is named by its lower bound. Speed-to-lead counts whole minutes from lead to first
call: one bucket per minute for the first hour, so the share within any response target up
to an hour is exact; coarser after. Handling time counts seconds.
"""

from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from math import ceil

MINUTE_BOUNDS = (
    *range(60),
    *(60, 75, 90, 105, 120, 150, 180, 240, 300, 360, 480, 600, 720, 960),
    *(1440, 2880, 4320, 7200, 10080, 20160),
)
SECOND_BOUNDS = (
    *range(0, 300, 15),
    *(300, 360, 420, 480, 600, 720, 900, 1200, 1500, 1800, 2700, 3600, 5400, 7200),
)


@dataclass(frozen=True)
class Bucket:
    """A histogram bucket: lower bound included, upper bound excluded (None: no upper)."""

    low: int
    high: int | None


def bucket_of(value: int, bounds: tuple[int, ...]) -> int:
    """The lower bound of the bucket holding this value (negative values count as 0)."""
    return bounds[max(bisect_right(bounds, max(value, 0)) - 1, 0)]


@cache
def _upper_bounds(bounds: tuple[int, ...]) -> dict[int, int | None]:
    return dict(zip(bounds, (*bounds[1:], None), strict=True))


def bucket(low: int, bounds: tuple[int, ...]) -> Bucket:
    """The bucket whose lower bound is `low` (a report reads thousands: no search per call)."""
    return Bucket(low, _upper_bounds(bounds)[low])


def nearest_rank(counts: dict[int, int], share: float, bounds: tuple[int, ...]) -> Bucket | None:
    """The bucket holding the nearest-rank percentile (share 0.5: the median), or None if empty.

    Nearest rank: the smallest value with at least `share` of all values at or below it.
    """
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = max(ceil(share * total), 1)
    seen = 0
    for low in sorted(counts):
        seen += counts[low]
        if seen >= rank:
            return bucket(low, bounds)
    return None  # unreachable while counts are positive


def count_below(counts: dict[int, int], limit: int, bounds: tuple[int, ...]) -> int:
    """How many values are surely below `limit`: exact when `limit` is a bucket bound."""
    upper = _upper_bounds(bounds)
    return sum(n for low, n in counts.items() if (high := upper[low]) and high <= limit)
