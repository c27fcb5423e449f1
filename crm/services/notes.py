"""Advocates' notes on a contact: append-only; a correction is a new note."""

from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, Note, utcnow
from crm.models.enums import TimelineKind
from crm.services import events
from crm.services.actors import Actor

MAX_NOTE_LENGTH = 5000


class NoteRefused(ValueError):
    """An empty or overlong note, or one for a contact that is not there."""


def add_note(
    contact_id: int, author_user_id: int, body: str, *, at: datetime | None = None
) -> Note:
    """Add a note and its timeline event to the caller's transaction (`at`: demo data only)."""
    body = (body or "").strip()
    if not body:
        raise NoteRefused("Write something first.")
    if len(body) > MAX_NOTE_LENGTH:
        raise NoteRefused(f"Keep a note under {MAX_NOTE_LENGTH} characters.")
    if db.session.get(Contact, contact_id) is None:
        raise NoteRefused("No such contact.")
    note = Note(
        contact_id=contact_id, author_user_id=author_user_id, body=body, created_at=at or utcnow()
    )
    db.session.add(note)
    db.session.flush()
    events.record(
        contact_id,
        TimelineKind.note_added,
        Actor.user(author_user_id),
        detail={"note_id": note.id},
        at=note.created_at,
    )
    return note


def for_contacts(contact_ids: list[int]) -> list[Note]:
    """Newest first."""
    return list(
        db.session.scalars(
            sa.select(Note).where(Note.contact_id.in_(contact_ids)).order_by(Note.id.desc())
        )
    )
