"""Who looked at or changed what, and when: append-only, for the organisation's privacy officer."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, append_only, created_at_column, enum_type
from crm.models.enums import AuditAction


@append_only
class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_contact_id_id", "contact_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = created_at_column()
    # No foreign keys: the trail outlives the rows it speaks of (a removed user, an erased contact).
    actor_user_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction, "action"), index=True)
    contact_id: Mapped[int | None] = mapped_column(sa.Integer)
    target_user_id: Mapped[int | None] = mapped_column(sa.Integer)
    # Ids, counts and codes only: never a name, a search text or a note.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
