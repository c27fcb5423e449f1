"""Possible duplicates: merge two records of one person, or say they are two people.

A merge moves nothing that is evidence: submissions, consent records, timeline and stage
events stay on the record they were written for (they are append-only), and the survivor's
page gathers them through merged_into_id. Only what still has work to do follows the
survivor: the merged record's open calls, so the call queue, which skips merged records,
still reaches the person.
"""

import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, Contact, utcnow
from crm.models.enums import CallTaskStatus, CloseOutcome, Language, Stage, TimelineKind
from crm.services import events, stages
from crm.services.actors import Actor


class MergeRefused(ValueError):
    """The two records are not linked as possible duplicates, or one is already merged."""


def merge(survivor_id: int, other_id: int, user_id: int) -> Contact:
    """Fold `other` into `survivor`, which keeps its own email and phone (caller commits)."""
    survivor, other = _linked_pair(survivor_id, other_id)
    now, actor = utcnow(), Actor.user(user_id)
    # A link the merged record had to a third record is the survivor's to resolve now.
    inherited = other.possible_duplicate_of_id
    other.merged_into_id = survivor.id
    other.possible_duplicate_of_id = None
    if survivor.possible_duplicate_of_id in (None, other.id):
        survivor.possible_duplicate_of_id = inherited if inherited != survivor.id else None
    survivor.submission_count += other.submission_count
    # As with a later submit: someone who asked anywhere to be called in Spanish still is.
    if other.preferred_language == Language.es:
        survivor.preferred_language = Language.es
    if other.last_submitted_at and (
        survivor.last_submitted_at is None or other.last_submitted_at > survivor.last_submitted_at
    ):
        survivor.last_submitted_at = other.last_submitted_at
    db.session.flush()
    # Records merged into `other` earlier, and links to it, now point at the survivor, so a
    # page gathers one level of merged records and no link names a merged record.
    db.session.execute(
        sa.update(Contact)
        .where(Contact.merged_into_id == other.id)
        .values(merged_into_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Contact)
        .where(Contact.possible_duplicate_of_id == other.id, Contact.id != survivor.id)
        .values(possible_duplicate_of_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(CallTask)
        .where(CallTask.contact_id == other.id, CallTask.status == CallTaskStatus.open)
        .values(contact_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    if other.stage != Stage.closed:
        # Reports count each person once: the merged record closes as a duplicate.
        stages.change_stage(
            other.id,
            stages.StageMove(
                Stage.closed, f"Merged into contact {survivor.id}.", CloseOutcome.duplicate
            ),
            actor,
        )
    events.record(
        survivor.id, TimelineKind.merged, actor, detail={"merged_contact_id": other.id}, at=now
    )
    events.record(
        other.id, TimelineKind.merged, actor, detail={"merged_into_id": survivor.id}, at=now
    )
    return survivor


def mark_not_duplicate(contact_id: int, other_id: int, user_id: int) -> None:
    """Clear the link on both sides: staff say these are two people (a family's shared phone)."""
    contact, other = _linked_pair(contact_id, other_id)
    now, actor = utcnow(), Actor.user(user_id)
    for this, that in ((contact, other), (other, contact)):
        if this.possible_duplicate_of_id == that.id:
            this.possible_duplicate_of_id = None
    db.session.flush()
    for this, that in ((contact, other), (other, contact)):
        events.record(
            this.id, TimelineKind.not_duplicate, actor, detail={"other_contact_id": that.id}, at=now
        )


def _linked_pair(first_id: int, second_id: int) -> tuple[Contact, Contact]:
    if first_id == second_id:
        raise MergeRefused("A contact cannot be a duplicate of itself.")
    # Locked in id order, so two staff resolving the same pair from its two pages queue up.
    locked = {
        contact.id: contact
        for contact in db.session.scalars(
            sa.select(Contact)
            .where(Contact.id.in_([first_id, second_id]))
            .order_by(Contact.id)
            .with_for_update()
        )
    }
    first, second = locked.get(first_id), locked.get(second_id)
    if first is None or second is None:
        raise MergeRefused("No such contact.")
    if first.merged_into_id is not None or second.merged_into_id is not None:
        raise MergeRefused("One of these records was merged meanwhile; look again.")
    if first.possible_duplicate_of_id != second.id and second.possible_duplicate_of_id != first.id:
        raise MergeRefused("These two records are not marked as possible duplicates.")
    return first, second
