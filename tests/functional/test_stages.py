"""The stage service: the transition table, the typed stage-change rows, the timeline trail."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, Note, StageChange, TimelineEvent
from crm.models.base import AppendOnlyError
from crm.models.enums import ActorKind, AuditAction, CloseOutcome, Role, Stage, TimelineKind
from crm.services import audit, notes, stages
from crm.services.actors import SYSTEM, Actor
from crm.services.stages import StageChangeRefused, StageMove
from tests.factories import make_contact, make_user


@pytest.fixture
def advocate(app_ctx):
    return Actor.user(make_user(Role.advocate).id)


def move(contact_id, to, actor, reason="spoke with them", outcome=None, **kwargs):
    return stages.change_stage(contact_id, StageMove(to, reason, outcome), actor, **kwargs)


def test_a_move_writes_the_stage_change_row_the_contact_and_a_timeline_event(advocate):
    contact = make_contact()

    change = move(contact.id, Stage.contacted, advocate, reason="Reached her on the first call")
    db.session.commit()

    assert (change.from_stage, change.to_stage, change.reason) == (
        Stage.new,
        Stage.contacted,
        "Reached her on the first call",
    )
    assert (change.actor_kind, change.actor_user_id) == (ActorKind.user, advocate.user_id)
    assert db.session.get(Contact, contact.id).stage == Stage.contacted
    event = db.session.scalar(
        sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.stage_changed)
    )
    assert event.detail["stage_change_id"] == change.id
    assert (event.actor_kind, event.actor_user_id) == (ActorKind.user, advocate.user_id)


def test_closing_needs_an_outcome_and_keeps_it(advocate):
    contact = make_contact()

    with pytest.raises(StageChangeRefused, match="outcome"):
        move(contact.id, Stage.closed, advocate)
    change = move(contact.id, Stage.closed, advocate, outcome=CloseOutcome.helped)

    assert db.session.get(Contact, contact.id).close_outcome == CloseOutcome.helped
    assert change.close_outcome == CloseOutcome.helped


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([Stage.qualified], Stage.contacted),  # no step back
        ([Stage.referred], Stage.new),
        ([(Stage.closed, CloseOutcome.unreachable)], Stage.qualified),  # reopen only early
    ],
)
def test_moves_outside_the_table_are_refused_and_change_nothing(advocate, path, refused):
    contact = make_contact()
    for step in path:
        to, outcome = step if isinstance(step, tuple) else (step, None)
        move(contact.id, to, advocate, outcome=outcome)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(StageChange))

    with pytest.raises(StageChangeRefused, match="cannot move"):
        move(contact.id, refused, advocate)

    assert db.session.scalar(sa.select(sa.func.count()).select_from(StageChange)) == before


def test_a_closed_contact_can_be_reopened_with_a_reason(advocate):
    contact = make_contact()
    move(contact.id, Stage.closed, advocate, outcome=CloseOutcome.unreachable)

    move(contact.id, Stage.attempting, advocate, reason="She called back")

    reopened = db.session.get(Contact, contact.id)
    assert (reopened.stage, reopened.close_outcome) == (Stage.attempting, None)


def test_staff_must_say_why_but_the_system_may_move_without_words(advocate):
    contact = make_contact()

    with pytest.raises(StageChangeRefused, match="why"):
        move(contact.id, Stage.attempting, advocate, reason="   ")
    change = move(contact.id, Stage.attempting, SYSTEM, reason="")

    assert (change.actor_kind, change.actor_user_id) == (ActorKind.system, None)


def test_a_move_based_on_a_stale_page_is_refused(advocate):
    contact = make_contact()
    move(contact.id, Stage.attempting, advocate)

    with pytest.raises(StageChangeRefused, match="meanwhile"):
        move(contact.id, Stage.contacted, advocate, expected_from=Stage.new)


def test_every_open_stage_can_close_and_the_table_never_moves_back():
    order = list(stages.OPEN_STAGES)
    for stage in order:
        assert Stage.closed in stages.allowed_moves(stage)
        assert all(
            order.index(to) > order.index(stage)
            for to in stages.allowed_moves(stage)
            if to != Stage.closed
        )


@pytest.mark.parametrize("model", [StageChange, TimelineEvent, Note])
def test_trail_rows_cannot_be_changed_or_removed_through_the_orm(advocate, model):
    contact = make_contact()
    move(contact.id, Stage.attempting, advocate)
    notes.add_note(contact.id, advocate.user_id, "Left a voicemail")
    db.session.commit()
    row = db.session.scalars(sa.select(model)).first()

    db.session.delete(row)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("table", ["stage_changes", "timeline_events", "notes", "audit_events"])
def test_the_database_itself_refuses_to_rewrite_the_trail(advocate, table):
    contact = make_contact()
    move(contact.id, Stage.attempting, advocate)
    notes.add_note(contact.id, advocate.user_id, "Left a voicemail")
    audit.record(AuditAction.contact_viewed, advocate.user_id, "127.0.0.1", contact_id=1)
    db.session.commit()

    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text(f"UPDATE {table} SET id = id"))
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text(f"DELETE FROM {table}"))
    db.session.rollback()


def test_a_visitors_submit_is_recorded_as_the_visitors_own_event(app_ctx):
    contact = make_contact()

    created = db.session.scalar(
        sa.select(TimelineEvent).where(
            TimelineEvent.contact_id == contact.id, TimelineEvent.kind == TimelineKind.created
        )
    )
    queued = db.session.scalar(
        sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.email_queued)
    )
    assert created.actor_kind == ActorKind.visitor
    assert queued.actor_kind == ActorKind.system
