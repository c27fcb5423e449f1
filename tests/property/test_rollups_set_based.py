"""On PostgreSQL the set-based rebuild gives what folding the events as they arrived gives.

The same random leads, moves and calls as test_rollups_match_raw_events.py, refreshed in
small batches part way through with dimensions changing in between; then the roll-up tables,
every lead's row and the watermarks must be the same after a set-based rebuild, and after a
rebuild by the Python fold.
"""

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.extensions import db
from crm.models import RollupContact, RollupWatermark, utcnow
from crm.services import rollups
from tests.conftest import empty_all_tables
from tests.rollup_data import add_advocate, snapshot
from tests.rollup_strategies import contact_fields, leads, write_lead

pytestmark = pytest.mark.postgres_only


def _state() -> dict:
    """Every roll-up table, each lead's row and every watermark."""
    db.session.expire_all()
    columns = [c for c in RollupContact.__table__.columns]
    marks = RollupWatermark.__table__.columns
    return {
        **snapshot(),
        "leads": {tuple(row) for row in db.session.execute(sa.select(*columns))},
        "watermarks": {tuple(row) for row in db.session.execute(sa.select(*marks))},
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(leads=leads, split=st.integers(0, 6), batch=st.integers(1, 4))
def test_set_based_rebuild_equals_the_incremental_refresh(
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
    now = utcnow()
    rollups.refresh(now, batch_size=batch)
    incremental = _state()

    in_sql = rollups.rebuild(now, in_sql=True)
    by_set = _state()
    by_fold = rollups.rebuild(now, batch_size=batch, in_sql=False)

    assert _state() == by_set
    assert in_sql == by_fold
    assert {k: v for k, v in by_set.items() if k != "watermarks"} == {
        k: v for k, v in incremental.items() if k != "watermarks"
    }
    last_ids = {mark[:2] for mark in incremental["watermarks"]}
    assert {mark[:2] for mark in by_set["watermarks"]} == last_ids
