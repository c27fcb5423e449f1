"""A call an advocate owes a contact, due at a time the database decides."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, created_at_column, enum_type
from crm.models.enums import BestTime, CallReason, CallTaskStatus


class CallTask(Base):
    __tablename__ = "call_tasks"
    __table_args__ = (
        # The queue's question: open, due, unclaimed or with its lease run out, oldest first.
        sa.Index("ix_call_tasks_queue", "status", "due_at", "lease_expires_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint(
            "(claimed_by_user_id IS NULL) = (lease_expires_at IS NULL)", name="claim_has_lease"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL"), unique=True
    )
    reason: Mapped[CallReason] = mapped_column(
        enum_type(CallReason, "reason"),
        default=CallReason.requested_callback,
        server_default=CallReason.requested_callback.value,
    )
    best_time: Mapped[BestTime] = mapped_column(enum_type(BestTime, "best_time"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[CallTaskStatus] = mapped_column(
        enum_type(CallTaskStatus, "status"), default=CallTaskStatus.open
    )
    # Who pressed Next call and got this task; the claim lapses at lease_expires_at, when the
    # task is back in the queue for anyone (no sweeper: the queue reads an expired lease as none).
    claimed_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once, when the response target passed with no attempt; never cleared.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
