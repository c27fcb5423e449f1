"""The append-only history of a contact, shown to staff and read by reports."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, append_only, created_at_column, enum_type
from crm.models.enums import ActorKind, TimelineKind


@append_only
class TimelineEvent(Base):
    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[TimelineKind] = mapped_column(enum_type(TimelineKind, "kind"))
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL")
    )
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox.id", ondelete="SET NULL"))
    actor_kind: Mapped[ActorKind] = mapped_column(
        enum_type(ActorKind, "actor_kind"), default=ActorKind.system
    )
    actor_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # Ids and codes only; never names, phones or diagnoses.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = created_at_column()
