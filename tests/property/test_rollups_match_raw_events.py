"""For random leads, stage moves and calls, the roll-ups answer what the raw events say.

Leads come in around New York's midnights (the second night is the one clocks go forward),
events are written in any order and time (a call logged before its lead, backdated moves),
the roll-ups are refreshed in small batches part way through, and leads change their
dimensions in between. Each roll-up table must then equal a direct computation over the raw
rows; refreshing again must change nothing, and a rebuild must give the same tables.
"""

from datetime import timedelta
from math import ceil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.extensions import db
from crm.models import CallDaily, FunnelDaily, ReportSlice, SpeedDaily
from crm.services import rollups
from crm.services.rollups import reports
from crm.services.rollups.upsert import DIMENSIONS
from tests.conftest import empty_all_tables
from tests.rollup_data import (
    FUNNEL,
    add_advocate,
    expected_call_daily,
    expected_funnel_daily,
    expected_milestones,
    expected_slices,
    expected_speed_daily,
    expected_submissions,
    minutes_to_first_call,
    rollup_rows,
    snapshot,
)
from tests.rollup_strategies import START, contact_fields, leads, write_lead

PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _nearest_rank(values: list[int], share: float) -> int:
    return sorted(values)[max(ceil(share * len(values)), 1) - 1]


def _check_against_raw_events() -> None:
    assert snapshot()["milestones"] == expected_milestones()
    assert rollup_rows(FunnelDaily) == dict(expected_funnel_daily())
    assert rollup_rows(SpeedDaily) == dict(expected_speed_daily())
    assert rollup_rows(CallDaily) == expected_call_daily()
    expected = expected_slices(
        expected_funnel_daily(),
        expected_speed_daily(),
        expected_call_daily(),
        expected_submissions(),
    )
    assert rollup_rows(ReportSlice) == expected


def _shown(name: str, value):
    """A funnel_daily key value as the reports name it (None where the lead had none)."""
    if name == "is_veteran":
        return value
    return None if value in ("", 0) else value


def _check_reports() -> None:
    start, end = (START - timedelta(days=2)).date(), (START + timedelta(days=6)).date()
    expected = expected_funnel_daily()
    answered = reports.funnel(start, end)
    per_stage = {stage: sum(n for k, n in expected.items() if k[-1] == stage) for stage in FUNNEL}
    assert answered.reached == per_stage
    first_night = START.date()
    assert reports.funnel(first_night, first_night).leads == sum(
        n for k, n in expected.items() if k[0] == first_night and k[-1] == "new"
    )
    # Read from the slices (one dimension) and from funnel_daily (two): the same answers.
    for index, name in enumerate(DIMENSIONS):
        direct: dict = {}
        for key, n in expected.items():
            if key[-1] == "new" and start <= key[0] <= end:
                value = key[1 + index]
                direct[value] = direct.get(value, 0) + n
        answered_by = reports.funnel_by(name, start, end)
        assert {_shown(name, v): n for v, n in direct.items()} == {
            value: f.leads for value, f in answered_by.items()
        }
        # With a second filter (the lead gave no state, or their first form was the guide)
        # the answer comes from funnel_daily: check it against the raw rows too.
        other = "state" if name != "state" else "form"
        other_index, other_value = DIMENSIONS.index(other), "" if other == "state" else "guide"
        for value, funnel in answered_by.items():
            assert reports.funnel(start, end, **{name: value}).reached == funnel.reached
            both = reports.funnel(start, end, **{name: value, other: other_value or None})
            assert both.leads == sum(
                n
                for key, n in expected.items()
                if key[-1] == "new"
                and start <= key[0] <= end
                and _shown(name, key[1 + index]) == value
                and key[1 + other_index] == other_value
            )
    sent = reports.submissions_by_day(start, end)
    assert sent == {
        day: sum(n for (d, _), n in expected_submissions().items() if d == day)
        for day in {d for (d, _) in expected_submissions() if start <= d <= end}
    }
    # A page's one read gives what the single reads give.
    page = reports.speed_page(start, end, 15)
    assert page.overall == reports.speed_to_lead(start, end, target_minutes=15)
    assert page.by_form == reports.speed_by("form", start, end, 15)
    assert page.by_advocate == reports.speed_by("advocate_id", start, end, 15)
    assert page.calls == reports.advocate_calls(start, end)
    earlier = (start - timedelta(days=9), start - timedelta(days=1))
    funnels = reports.funnel_page((start, end), earlier, "campaign", {})
    assert funnels.now == reports.funnel(start, end)
    assert funnels.before == reports.funnel(*earlier)
    assert funnels.breakdown == reports.funnel_by("campaign", start, end)
    waits = list(minutes_to_first_call().values())
    speed = reports.speed_to_lead(start, end, target_minutes=15)
    assert speed.attempted == len(waits)
    assert speed.within_target == sum(1 for m in waits if m < 15)
    if waits:
        for share, bucket in ((0.5, speed.median), (0.9, speed.p90)):
            exact = max(_nearest_rank(waits, share), 0)
            assert bucket.low <= exact and (bucket.high is None or exact < bucket.high)


@PROPERTY
@given(leads=leads, split=st.integers(0, 6), batch=st.integers(1, 4))
def test_rollups_equal_a_direct_computation_over_raw_events(
    app_ctx, config_override, leads, split, batch
):
    empty_all_tables()
    config_override(ORG_TIME_ZONE="America/New_York")
    advocates = [add_advocate(), add_advocate()]
    written = [write_lead(lead, advocates) for lead in leads[:split]]
    db.session.commit()
    rollups.refresh(batch_size=batch)

    written += [write_lead(lead, advocates) for lead in leads[split:]]
    for contact, lead in zip(written, leads, strict=True):
        if lead["later"] is not None:
            for name, value in contact_fields(lead["later"], advocates).items():
                setattr(contact, name, value)
    db.session.commit()
    rollups.refresh(batch_size=batch)

    _check_against_raw_events()
    _check_reports()
    incremental = snapshot()
    assert rollups.refresh() == 0
    assert snapshot() == incremental
    rollups.rebuild(batch_size=batch + 1)
    assert snapshot() == incremental
