"""A call an advocate made and logged: what happened, how long, what they noted."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.crypto import EncryptedText
from crm.models.base import Base, UTCDateTime, append_only, created_at_column, enum_type
from crm.models.enums import CallOutcome


@append_only
class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (sa.CheckConstraint("duration_seconds >= 0", name="duration_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    call_task_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("call_tasks.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    outcome: Mapped[CallOutcome] = mapped_column(enum_type(CallOutcome, "outcome"))
    duration_seconds: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(EncryptedText("calls.note"))
    call_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
