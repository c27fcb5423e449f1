"""Histogram buckets: percentiles and the share within a target come out of the counts."""

from crm.services.rollups.buckets import (
    MINUTE_BOUNDS,
    SECOND_BOUNDS,
    Bucket,
    bucket,
    bucket_of,
    count_below,
    nearest_rank,
)


def test_each_value_lands_in_the_bucket_that_holds_it():
    assert bucket_of(0, MINUTE_BOUNDS) == 0
    assert bucket_of(14, MINUTE_BOUNDS) == 14
    assert bucket_of(61, MINUTE_BOUNDS) == 60
    assert bucket_of(-3, MINUTE_BOUNDS) == 0  # a call logged a moment before its lead
    assert bucket(20160, MINUTE_BOUNDS) == Bucket(20160, None)
    assert bucket_of(10**9, SECOND_BOUNDS) == SECOND_BOUNDS[-1]
    assert bucket(15, SECOND_BOUNDS) == Bucket(15, 30)


def test_median_and_p90_are_the_nearest_rank_buckets():
    waits = [3, 3, 10, 12, 40, 75, 75, 200, 200, 3000]
    counts: dict[int, int] = {}
    for wait in waits:
        low = bucket_of(wait, MINUTE_BOUNDS)
        counts[low] = counts.get(low, 0) + 1

    assert nearest_rank(counts, 0.5, MINUTE_BOUNDS) == Bucket(40, 41)  # 5th of 10
    assert nearest_rank(counts, 0.9, MINUTE_BOUNDS) == Bucket(180, 240)  # 9th of 10
    assert nearest_rank({}, 0.5, MINUTE_BOUNDS) is None


def test_share_within_a_whole_minute_target_is_exact():
    counts = {bucket_of(m, MINUTE_BOUNDS): 1 for m in (0, 14, 15, 59, 60)}

    assert count_below(counts, 15, MINUTE_BOUNDS) == 2
    assert count_below(counts, 60, MINUTE_BOUNDS) == 4
    assert count_below(counts, 1, MINUTE_BOUNDS) == 1
