"""A call an advocate owes a contact, due at a time the database decides."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, created_at_column, enum_type
from crm.models.enums import BestTime, CallTaskStatus


class CallTask(Base):
    __tablename__ = "call_tasks"
    __table_args__ = (
        sa.Index("ix_call_tasks_status_due_at", "status", "due_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL"), unique=True
    )
    best_time: Mapped[BestTime] = mapped_column(enum_type(BestTime, "best_time"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[CallTaskStatus] = mapped_column(
        enum_type(CallTaskStatus, "status"), default=CallTaskStatus.open
    )
    attempts: Mapped[int] = mapped_column(default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once, when the response target passed with no attempt; never cleared.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
