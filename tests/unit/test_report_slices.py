"""Report slices: any range of days is covered exactly by a few aligned blocks."""

from datetime import date, timedelta
from math import ceil, log2

from hypothesis import given
from hypothesis import strategies as st

from crm.services.rollups.slices import EPOCH, LEVELS, as_text, block_start, blocks, from_text

days = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))


@given(start=days, length=st.integers(0, 3000))
def test_blocks_cover_the_range_exactly_once_with_aligned_blocks(start, length):
    end = start + timedelta(days=length)
    covered = []
    for span, first in blocks(start, end):
        assert span in LEVELS
        assert (first - EPOCH).days % span == 0
        assert block_start(first + timedelta(days=span - 1), span) == first
        covered += [first + timedelta(days=i) for i in range(span)]
    assert covered == [start + timedelta(days=i) for i in range(length + 1)]
    # Up and down the levels once, plus whole blocks of the longest span.
    longest = (length + 1) // LEVELS[-1]
    assert len(blocks(start, end)) <= 2 * ceil(log2(length + 2)) + longest


def test_a_month_reads_a_handful_of_blocks_and_a_day_is_its_own_block():
    # 2026-11-03 is day 20,760 since 1970-01-01: a multiple of 8; 11-11 one of 16.
    assert blocks(date(2026, 11, 1), date(2026, 11, 30)) == [
        (2, date(2026, 11, 1)),
        (8, date(2026, 11, 3)),
        (16, date(2026, 11, 11)),
        (4, date(2026, 11, 27)),
    ]
    assert blocks(date(2026, 11, 27), date(2026, 11, 27)) == [(1, date(2026, 11, 27))]
    assert blocks(date(2026, 11, 28), date(2026, 11, 27)) == []


def test_values_keep_their_type_through_the_slices_text():
    assert from_text("is_veteran", as_text(True)) is True
    assert from_text("is_veteran", as_text(False)) is False
    assert from_text("advocate_id", as_text(42)) == 42
    assert from_text("campaign", as_text("=cmd|' /C calc'!A0")) == "=cmd|' /C calc'!A0"
