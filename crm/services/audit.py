"""The one writer of the audit trail: who looked at or changed what, when, from where."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, utcnow
from crm.models.enums import AuditAction


def record(
    action: AuditAction,
    actor_user_id: int | None,
    ip_address: str | None,
    *,
    contact_id: int | None = None,
    target_user_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row to the caller's transaction (ids and codes only) and flush it."""
    event = AuditEvent(
        action=action,
        actor_user_id=actor_user_id,
        ip_address=(ip_address or "")[:45] or None,
        contact_id=contact_id,
        target_user_id=target_user_id,
        detail=detail or {},
        created_at=utcnow(),
    )
    db.session.add(event)
    db.session.flush()
    return event


def browse(
    *,
    actor_user_id: int | None = None,
    action: AuditAction | None = None,
    contact_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest first, filtered, one keyset page (pass the last id seen as before_id)."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_user_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if contact_id is not None:
        query = query.where(AuditEvent.contact_id == contact_id)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.session.scalars(query))
