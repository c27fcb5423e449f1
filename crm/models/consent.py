"""Immutable proof of what a visitor agreed to, per channel, per submit."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, append_only, enum_type
from crm.models.enums import ConsentChannel, FormKind


@append_only
class ConsentRecord(Base):
    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    submission_id: Mapped[int] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[ConsentChannel] = mapped_column(enum_type(ConsentChannel, "channel"))
    granted: Mapped[bool]
    text: Mapped[str] = mapped_column(sa.Text)
    text_version: Mapped[str] = mapped_column(sa.String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(500))
    page_url: Mapped[str | None] = mapped_column(sa.String(1000))
    form: Mapped[FormKind] = mapped_column(enum_type(FormKind, "form"))
