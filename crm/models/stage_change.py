"""Every move of a contact between stages, in typed columns that reports group by."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.crypto import EncryptedText
from crm.models.base import Base, append_only, created_at_column, enum_type
from crm.models.enums import ActorKind, CloseOutcome, Stage


@append_only
class StageChange(Base):
    __tablename__ = "stage_changes"
    __table_args__ = (
        sa.CheckConstraint(
            "(to_stage = 'closed') = (close_outcome IS NOT NULL)", name="closed_has_outcome"
        ),
        sa.CheckConstraint(
            "(actor_kind = 'user') = (actor_user_id IS NOT NULL)", name="user_actor_named"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[Stage] = mapped_column(enum_type(Stage, "from_stage"))
    to_stage: Mapped[Stage] = mapped_column(enum_type(Stage, "to_stage"), index=True)
    close_outcome: Mapped[CloseOutcome | None] = mapped_column(
        enum_type(CloseOutcome, "close_outcome")
    )
    reason: Mapped[str] = mapped_column(EncryptedText("stage_changes.reason"), default="")
    actor_kind: Mapped[ActorKind] = mapped_column(enum_type(ActorKind, "actor_kind"))
    actor_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
