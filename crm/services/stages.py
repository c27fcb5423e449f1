"""The only place a contact's stage changes, along an explicit transition table.

DESIGN.md's chain is new → attempting → contacted → qualified → referred → closed. Refined:
- an open stage may skip forward (an advocate who reaches and qualifies someone on the first
  call moves new → qualified), never back: a step back would make the funnel count a contact
  twice; a lead that turns out not to qualify is closed as not_eligible instead;
- any open stage may close, with an outcome;
- a closed contact may be reopened to attempting or contacted (they called back, or wrote
  again), never straight to a later stage;
- every move by staff needs a reason, kept on the stage change for the manager who asks why.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, StageChange, utcnow
from crm.models.enums import ActorKind, CloseOutcome, Stage, TimelineKind
from crm.services import events
from crm.services.actors import Actor

OPEN_STAGES = (Stage.new, Stage.attempting, Stage.contacted, Stage.qualified, Stage.referred)
TRANSITIONS: dict[Stage, tuple[Stage, ...]] = {
    **{stage: (*OPEN_STAGES[index + 1 :], Stage.closed) for index, stage in enumerate(OPEN_STAGES)},
    Stage.closed: (Stage.attempting, Stage.contacted),
}
MAX_REASON_LENGTH = 1000


class StageChangeRefused(ValueError):
    """The move is not in the table, lacks an outcome or reason, or the stage moved meanwhile."""


@dataclass(frozen=True)
class StageMove:
    to_stage: Stage
    reason: str = ""
    outcome: CloseOutcome | None = None


def allowed_moves(stage: Stage) -> tuple[Stage, ...]:
    return TRANSITIONS[stage]


def change_stage(
    contact_id: int,
    move: StageMove,
    actor: Actor,
    *,
    expected_from: Stage | None = None,
    at: datetime | None = None,
) -> StageChange:
    """Move a contact (locked for the move) and write its stage change and timeline event.

    `at` backdates the move (demo data, imports); staff moves happen now.
    """
    contact = db.session.scalar(
        sa.select(Contact).where(Contact.id == contact_id).with_for_update()
    )
    if contact is None:
        raise StageChangeRefused("No such contact.")
    if expected_from is not None and contact.stage != expected_from:
        raise StageChangeRefused(
            f"Someone moved this contact to {contact.stage.label} meanwhile; look again."
        )
    reason = _check(contact.stage, move, actor)
    change = StageChange(
        contact_id=contact.id,
        from_stage=contact.stage,
        to_stage=move.to_stage,
        close_outcome=move.outcome if move.to_stage == Stage.closed else None,
        reason=reason,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        created_at=at or utcnow(),
    )
    db.session.add(change)
    contact.stage = move.to_stage
    contact.close_outcome = change.close_outcome
    db.session.flush()
    events.record(
        contact.id,
        TimelineKind.stage_changed,
        actor,
        detail={
            "stage_change_id": change.id,
            "from": change.from_stage.value,
            "to": change.to_stage.value,
            "outcome": change.close_outcome.value if change.close_outcome else None,
        },
        at=change.created_at,
    )
    return change


def _check(stage: Stage, move: StageMove, actor: Actor) -> str:
    if move.to_stage not in TRANSITIONS[stage]:
        raise StageChangeRefused(
            f"A contact cannot move from {stage.label} to {move.to_stage.label}."
        )
    if move.to_stage == Stage.closed and move.outcome is None:
        raise StageChangeRefused("Closing needs an outcome.")
    if move.to_stage != Stage.closed and move.outcome is not None:
        raise StageChangeRefused("Only closing takes an outcome.")
    reason = (move.reason or "").strip()
    if actor.kind == ActorKind.user and not reason:
        raise StageChangeRefused("Say why the stage changes.")
    if len(reason) > MAX_REASON_LENGTH:
        raise StageChangeRefused(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    return reason


def history(contact_ids: list[int]) -> list[StageChange]:
    """Newest first: every stage change of these contacts."""
    return list(
        db.session.scalars(
            sa.select(StageChange)
            .where(StageChange.contact_id.in_(contact_ids))
            .order_by(StageChange.id.desc())
        )
    )
