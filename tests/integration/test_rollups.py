"""Report roll-ups on small fixed data, with the figures worked out by hand."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, RollupContact
from crm.models.enums import CallOutcome, CloseOutcome, FormKind, Stage
from crm.services import rollups
from crm.services.rollups import reports
from crm.services.rollups.buckets import Bucket
from tests.rollup_data import add_advocate, add_lead, log_call, move, snapshot

NOV19, NOV20 = date(2026, 11, 19), date(2026, 11, 20)


def utc(day, hour, minute=0):
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def three_leads(app_ctx, config_override):
    """Three leads around New York's midnight of 19-20 November, with their moves and calls."""
    config_override(ORG_TIME_ZONE="America/New_York")
    ann, bob = add_advocate(), add_advocate()
    # 23:30 in California on the 19th is 02:30 on the 20th in New York: the 20th's cohort.
    helped = add_lead(utc(20, 7, 30), FormKind.callback, utm_source="google", assigned_user_id=ann)
    log_call(helped, ann, utc(20, 7, 40), CallOutcome.no_answer, 30)
    move(helped, Stage.attempting, utc(20, 7, 40))
    log_call(helped, ann, utc(20, 8, 0), CallOutcome.reached, 600)
    move(helped, Stage.qualified, utc(20, 9, 0))  # a forward skip past contacted
    move(helped, Stage.closed, utc(21, 9, 0), CloseOutcome.helped)
    # 23:59 in New York on the 19th; reopened after being lost.
    lost = add_lead(utc(20, 4, 59))
    move(lost, Stage.closed, utc(20, 5, 10), CloseOutcome.not_interested)
    log_call(lost, bob, utc(20, 5, 44), CallOutcome.voicemail, 0)
    move(lost, Stage.attempting, utc(20, 6, 0))
    untouched = add_lead(utc(20, 5, 0))  # midnight exactly in New York: the 20th
    db.session.commit()
    return {"ann": ann, "bob": bob, "untouched": untouched.id}


def test_leads_count_on_the_organisation_day_they_came_in(three_leads):
    rollups.refresh()

    assert reports.funnel(NOV20, NOV20).reached == {
        "new": 2,
        "attempting": 1,
        "contacted": 1,
        "qualified": 1,
        "referred": 1,
        "helped": 1,
    }
    nov19 = reports.funnel(NOV19, NOV19)
    assert nov19.reached == {"new": 1, "attempting": 1} | dict.fromkeys(
        ["contacted", "qualified", "referred", "helped"], 0
    )
    assert nov19.lost == {"not_interested": 1}
    assert reports.funnel(NOV20, NOV20).lost == {}


def test_conversions_and_breakdowns(three_leads):
    rollups.refresh()

    both_days = reports.funnel(NOV19, NOV20)
    assert both_days.leads == 3
    assert both_days.conversions["attempting"] == pytest.approx(2 / 3)
    assert both_days.conversions["contacted"] == pytest.approx(1 / 2)
    assert both_days.conversions["helped"] == 1.0
    by_form = reports.funnel_by("form", NOV19, NOV20)
    assert {form: f.reached["new"] for form, f in by_form.items()} == {"callback": 1, "guide": 2}
    assert by_form["callback"].reached["helped"] == 1
    assert reports.funnel(NOV19, NOV20, form="guide").reached["attempting"] == 1
    assert reports.funnel(NOV19, NOV20, source="google").leads == 1
    assert reports.funnel(NOV19, NOV20, source=None).leads == 2
    assert reports.funnel(NOV19, NOV20, advocate_id=three_leads["ann"]).leads == 1
    assert reports.funnel(NOV19, NOV20, advocate_id=None).leads == 2
    assert reports.funnel_trend(NOV19, NOV20)[NOV20]["new"] == 2
    assert reports.funnel(date(2026, 11, 21), date(2026, 11, 30)).leads == 0


def test_speed_to_lead_from_the_first_call(three_leads):
    rollups.refresh()

    speed = reports.speed_to_lead(NOV19, NOV20, target_minutes=15)

    # 10 minutes for the callback, 45 for the guide lead (first call at 05:44 UTC).
    assert (speed.leads, speed.attempted, speed.within_target) == (3, 2, 1)
    assert speed.share_within_target == 0.5
    assert speed.median == Bucket(10, 11)
    assert speed.p90 == Bucket(45, 46)
    by_bob = reports.speed_to_lead(NOV19, NOV20, 15, advocate_id=three_leads["bob"])
    assert (by_bob.attempted, by_bob.within_target) == (1, 0)
    assert reports.speed_to_lead(NOV19, NOV20, 15, form="callback").median == Bucket(10, 11)


def test_speed_to_lead_per_form_and_per_first_caller(three_leads):
    rollups.refresh()

    by_form = reports.speed_by("form", NOV19, NOV20, 15)
    by_caller = reports.speed_by("advocate_id", NOV19, NOV20, 15)

    assert list(by_form) == ["callback", "guide"]
    callback, guide = by_form["callback"], by_form["guide"]
    assert (callback.leads, callback.attempted, callback.within_target) == (1, 1, 1)
    assert (guide.leads, guide.attempted, guide.median) == (2, 1, Bucket(45, 46))
    assert set(by_caller) == {three_leads["ann"], three_leads["bob"]}
    assert by_caller[three_leads["bob"]].p90 == Bucket(45, 46)
    assert reports.speed_by("form", date(2026, 11, 21), date(2026, 11, 30), 15) == {}


def test_calls_per_advocate_on_the_day_they_were_made(three_leads):
    rollups.refresh()

    ann, bob = reports.advocate_calls(NOV20, NOV20)

    assert (ann.user_id, ann.calls, ann.reached, ann.seconds_total) == (
        three_leads["ann"],
        2,
        1,
        630,
    )
    assert ann.median_handling == Bucket(30, 45)
    assert (bob.user_id, bob.calls, bob.reached) == (three_leads["bob"], 1, 0)
    assert reports.advocate_calls(NOV19, NOV19) == []


def test_refreshing_twice_counts_once(three_leads):
    assert rollups.refresh() > 0
    once = snapshot()

    assert rollups.refresh() == 0
    assert snapshot() == once


def test_rebuild_equals_refreshing_in_small_batches_as_events_arrive(three_leads):
    rollups.refresh(batch_size=1)
    later = db.session.get(Contact, three_leads["untouched"])
    move(later, Stage.contacted, utc(22, 12, 0))
    log_call(later, three_leads["ann"], utc(22, 11, 59), CallOutcome.reached, 95)
    db.session.commit()
    rollups.refresh(batch_size=2)
    incremental = snapshot()

    rollups.rebuild(batch_size=3)

    assert snapshot() == incremental
    assert reports.funnel(NOV20, NOV20).reached["contacted"] == 2


def test_a_lead_moves_between_rows_when_its_dimensions_change(three_leads):
    rollups.refresh()
    lead = db.session.get(Contact, three_leads["untouched"])
    lead.assigned_user_id = three_leads["bob"]
    lead.state = "CA"
    db.session.commit()

    rollups.refresh()

    assert reports.funnel(NOV20, NOV20, advocate_id=three_leads["bob"]).leads == 1
    assert reports.funnel(NOV20, NOV20, advocate_id=None).leads == 0
    assert reports.funnel(NOV19, NOV20, state="CA").leads == 1
    assert reports.funnel(NOV19, NOV20).leads == 3


def test_a_changed_time_zone_takes_effect_on_rebuild(three_leads, config_override):
    rollups.refresh()
    config_override(ORG_TIME_ZONE="America/Los_Angeles")

    rollups.rebuild()

    # In California all three came in on the 19th (23:30, 20:59 and 21:00).
    assert reports.funnel(NOV19, NOV19).leads == 3
    assert reports.funnel(NOV20, NOV20).leads == 0


@pytest.mark.postgres_only
def test_an_id_still_being_written_is_waited_for(app_ctx):
    """A lead whose transaction is open holds a lower id than one committed after it."""
    other = db.engine.connect()
    try:
        with other.begin():
            slow = other.execute(
                sa.insert(Contact)
                .values(first_name="Slow", last_name="Writer", email="slow@example.com")
                .returning(Contact.id)
            ).scalar_one()
            fast = add_lead(utc(20, 12)).id
            db.session.commit()
            rollups.refresh()
            assert db.session.get(RollupContact, fast) is None  # not folded past the gap
        rollups.refresh()
    finally:
        other.close()

    folded = set(db.session.scalars(sa.select(RollupContact.contact_id)))
    assert folded == {slow, fast}


@pytest.mark.postgres_only
@pytest.mark.parametrize("in_sql", [True, False])
def test_a_rebuild_stops_before_an_id_still_being_written(app_ctx, in_sql):
    """The set-based rebuild stops where the fold does, so the next refresh goes on there."""
    before = add_lead(utc(20, 11)).id
    db.session.commit()
    other = db.engine.connect()
    try:
        with other.begin():
            slow = other.execute(
                sa.insert(Contact)
                .values(first_name="Slow", last_name="Writer", email="slow@example.com")
                .returning(Contact.id)
            ).scalar_one()
            fast = add_lead(datetime.now(UTC)).id  # recent: the gap below it is not settled
            db.session.commit()
            # The lead before the gap, and both leads' forms: submissions have no gap.
            assert rollups.rebuild(in_sql=in_sql) == 3
            assert set(db.session.scalars(sa.select(RollupContact.contact_id))) == {before}
        rollups.refresh()
    finally:
        other.close()

    folded = set(db.session.scalars(sa.select(RollupContact.contact_id)))
    assert folded == {before, slow, fast}


@pytest.mark.postgres_only
def test_a_rolled_back_id_is_passed_over_after_the_grace(app_ctx):
    with db.engine.connect() as other, other.begin() as transaction:
        other.execute(
            sa.insert(Contact).values(first_name="Gone", last_name="Away", email="g@example.com")
        )
        transaction.rollback()
    kept = add_lead(utc(20, 12)).id
    db.session.commit()
    now = datetime.now(UTC)
    grace = timedelta(seconds=app_ctx.config["ROLLUP_GAP_GRACE_SECONDS"])

    rollups.refresh(now)
    assert db.session.get(RollupContact, kept) is None
    rollups.refresh(now + grace)

    assert db.session.get(RollupContact, kept) is not None


def test_the_periodic_task_and_the_command_fold_events_in(three_leads, app):
    assert app.extensions["celery"].tasks["rollups.refresh"]() > 0
    assert reports.funnel(NOV19, NOV20).leads == 3

    result = app.test_cli_runner().invoke(args=["crm", "rebuild-rollups"])

    assert result.exit_code == 0, result.output
    assert "rebuilt" in result.output
    assert reports.funnel(NOV19, NOV20).leads == 3


@pytest.mark.postgres_only
def test_refreshes_running_at_once_count_each_event_once(three_leads, app):
    """Four workers refresh together in small batches: the watermark lock lines them up."""
    barrier = threading.Barrier(4, timeout=60)
    errors: list[BaseException] = []

    def refresh_together() -> None:
        try:
            with app.app_context():
                barrier.wait()
                rollups.refresh(batch_size=1)
        except BaseException as error:  # re-raised in the test thread below
            errors.append(error)

    threads = [threading.Thread(target=refresh_together, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a refresh hung"
    assert not errors, errors
    together = snapshot()

    rollups.rebuild()

    assert snapshot() == together
    assert reports.funnel(NOV19, NOV20).leads == 3
