"""Immutable proof of what a person agreed to or refused, per channel: from a submit or staff."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, append_only, enum_type
from crm.models.enums import ConsentChannel, FormKind


@append_only
class ConsentRecord(Base):
    __tablename__ = "consent_records"
    __table_args__ = (
        # A record comes from a submit (with its form) or from a staff member (a revocation
        # the person asked for on the phone): never from nowhere.
        sa.CheckConstraint(
            "(submission_id IS NOT NULL AND form IS NOT NULL) OR recorded_by_user_id IS NOT NULL",
            name="has_source",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    # None for a record staff wrote (recorded_by_user_id says who).
    submission_id: Mapped[int | None] = mapped_column(
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
    form: Mapped[FormKind | None] = mapped_column(enum_type(FormKind, "form"))
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
