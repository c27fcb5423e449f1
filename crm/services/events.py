"""The one writer of timeline events: typed kind, who acted, when; never changed once written.

Two ways in, one row shape: `record` adds an ORM row to the session (staff actions, tasks);
`row` + `INSERT` is the same row for the capture path's Core executemany, which skips the ORM
to keep a submit to a few round trips.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from crm.extensions import db
from crm.models import TimelineEvent, utcnow
from crm.models.enums import TimelineKind
from crm.services.actors import SYSTEM, Actor

INSERT = sa.insert(TimelineEvent.__table__)


def row(
    contact_id: int,
    kind: TimelineKind,
    actor: Actor = SYSTEM,
    *,
    submission_id: int | None = None,
    outbox_id: int | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The parameters of one INSERT row (always the same keys: one cached statement)."""
    return {
        "contact_id": contact_id,
        "kind": kind,
        "actor_kind": actor.kind,
        "actor_user_id": actor.user_id,
        "submission_id": submission_id,
        "outbox_id": outbox_id,
        "detail": detail or {},
        "created_at": at or utcnow(),
    }


def record(
    contact_id: int,
    kind: TimelineKind,
    actor: Actor = SYSTEM,
    *,
    submission_id: int | None = None,
    outbox_id: int | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TimelineEvent:
    """Add one event to the caller's transaction and flush it. Detail holds ids and codes only."""
    event = TimelineEvent(
        **row(
            contact_id,
            kind,
            actor,
            submission_id=submission_id,
            outbox_id=outbox_id,
            detail=detail,
            at=at,
        )
    )
    db.session.add(event)
    db.session.flush()
    return event


def for_contacts(contact_ids: list[int], limit: int = 500) -> list[TimelineEvent]:
    """Newest first: the events of a contact and of the records merged into it."""
    return list(
        db.session.scalars(
            sa.select(TimelineEvent)
            .where(TimelineEvent.contact_id.in_(contact_ids))
            .order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc())
            .limit(limit)
        )
    )
