"""Printed guides staff print and mail."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.crypto import EncryptedJSON
from crm.models.base import Base, UTCDateTime, created_at_column, enum_type
from crm.models.enums import FulfilmentStatus


class GuideFulfilment(Base):
    __tablename__ = "guide_fulfilments"
    __table_args__ = (
        sa.CheckConstraint(
            "(status != 'shipped') OR (tracking_number IS NOT NULL)", name="shipped_has_tracking"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    mailing_address: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("guide_fulfilments.mailing_address")
    )
    status: Mapped[FulfilmentStatus] = mapped_column(
        enum_type(FulfilmentStatus, "status"), default=FulfilmentStatus.to_print
    )
    tracking_number: Mapped[str | None] = mapped_column(sa.String(60))
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
