"""Side effects waiting to happen: the database, not the broker, is the scheduler."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.base import Base, UTCDateTime, created_at_column, enum_type
from crm.models.enums import OutboxKind, OutboxStatus


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_status_due_at", "status", "due_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint("(status != 'sent') OR (sent_at IS NOT NULL)", name="sent_has_time"),
        sa.CheckConstraint(
            "(status != 'dead' AND status != 'bounced') OR (given_up_at IS NOT NULL)",
            name="given_up_has_time",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(enum_type(OutboxKind, "kind"))
    # None only for staff alerts about no one contact (the undelivered-email digest).
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE")
    )
    # Ids only, so a task payload never carries health data.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # "<kind>:<submission id>": one row per intended side effect, however often it is planned.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "status"), default=OutboxStatus.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Transient failures are retried until OUTBOX_RETRY_WINDOW_HOURS after this.
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the row ended dead or bounced (what `outbox requeue --dead-since` selects on).
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a managers' digest counted this dead row, so each is reported once.
    dead_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()

    # Loaded once per send and then held by the row, however often the email code asks.
    contact = relationship("Contact", lazy="select")
    submission = relationship("Submission", lazy="select")
