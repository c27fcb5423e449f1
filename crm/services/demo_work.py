"""Demo data: the work advocates have already done on older demo leads (calls, stages, notes)."""

import random
from datetime import timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Call, Contact, StageChange, utcnow
from crm.models.enums import CallOutcome, CloseOutcome, Stage
from crm.services import notes, stages
from crm.services.actors import Actor
from crm.services.stages import StageMove

# How far each worked lead got, with the odds of stopping at each step.
_PATHS = (
    ((Stage.attempting,), 0.25),
    ((Stage.attempting, Stage.contacted), 0.2),
    ((Stage.attempting, Stage.contacted, Stage.qualified), 0.15),
    ((Stage.attempting, Stage.contacted, Stage.qualified, Stage.referred), 0.15),
    ((Stage.attempting, Stage.contacted, Stage.qualified, Stage.referred, Stage.closed), 0.1),
    ((Stage.attempting, Stage.closed), 0.15),
)
_REASONS = {
    Stage.attempting: "Called, left a voicemail with our number",
    Stage.contacted: "Spoke with them; they want help with treatment options",
    Stage.qualified: "Diagnosis confirmed; looking for a specialist",
    Stage.referred: "Referred to a mesothelioma specialist near them",
    Stage.closed: "Finished",
}
_NOTES = (
    "Prefers calls after 4pm; daughter is often on the line too.",
    "Asked about VA benefits for asbestos exposure in the Navy.",
    "Sent the guide again; the first one went to spam.",
    "Worried about travel costs for treatment; mentioned financial assistance.",
)


def record_demo_work(advocate_ids: list[int], seed: int) -> int:
    """Move most leads older than a day along the funnel, as advocates would; return how many."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(StageChange)):
        return 0
    rng = random.Random(seed)
    cutoff = utcnow() - timedelta(days=1)
    contacts = db.session.execute(
        sa.select(Contact.id, Contact.created_at)
        .where(Contact.created_at < cutoff, Contact.stage == Stage.new)
        .order_by(Contact.id)
    ).all()
    worked = 0
    for contact_id, created_at in contacts:
        if rng.random() < 0.3:
            continue  # still waiting for a first call
        path = rng.choices([p for p, _ in _PATHS], weights=[w for _, w in _PATHS])[0]
        actor = Actor.user(rng.choice(advocate_ids))
        # The first call minutes to hours after the lead came in; later steps hours apart.
        at = created_at + timedelta(minutes=rng.uniform(2, 240))
        for number, stage in enumerate(path):
            if number:
                at += timedelta(hours=rng.uniform(0.2, 30))
            _log_calls(rng, contact_id, actor.user_id, stage, min(at, utcnow()))
            outcome = None
            if stage == Stage.closed:
                outcome = (
                    CloseOutcome.helped
                    if Stage.referred in path
                    else rng.choice([CloseOutcome.unreachable, CloseOutcome.not_interested])
                )
            move = StageMove(stage, _REASONS[stage], outcome)
            stages.change_stage(contact_id, move, actor, at=min(at, utcnow()))
        if rng.random() < 0.35:
            notes.add_note(contact_id, actor.user_id, rng.choice(_NOTES), at=min(at, utcnow()))
        worked += 1
    return worked


def _log_calls(rng: random.Random, contact_id: int, user_id: int, stage: Stage, at) -> None:
    """The calls behind a move: unanswered tries before attempting or an unreachable close,
    one conversation before contacted (what the speed and advocates reports count)."""
    if stage == Stage.attempting:
        tries = [rng.choice([CallOutcome.no_answer, CallOutcome.voicemail])]
    elif stage == Stage.contacted:
        tries = [CallOutcome.reached]
    elif stage == Stage.closed and rng.random() < 0.5:
        tries = [CallOutcome.no_answer, CallOutcome.voicemail]
    else:
        return
    for number, outcome in enumerate(tries):
        seconds = rng.randint(240, 1500) if outcome == CallOutcome.reached else rng.randint(5, 45)
        db.session.add(
            Call(
                contact_id=contact_id,
                user_id=user_id,
                outcome=outcome,
                duration_seconds=seconds,
                # Earlier tries a little before the move they led to.
                created_at=at - timedelta(minutes=10 * (len(tries) - 1 - number)),
            )
        )
    db.session.flush()
