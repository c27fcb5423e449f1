"""What a visitor sent through one form, and the bot traffic kept apart from leads."""

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.crypto import EncryptedJSON
from crm.models.attribution import AttributionMixin
from crm.models.base import Base, UTCDateTime, created_at_column, enum_type
from crm.models.enums import FormKind


def new_public_id() -> str:
    return uuid.uuid4().hex


class Submission(AttributionMixin, Base):
    """One real form submit; its attribution columns hold the last touch."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown outside (API responses, thank-you links) instead of the sequential id.
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_public_id)
    form: Mapped[FormKind] = mapped_column(enum_type(FormKind, "form"))
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    # The signed form nonce or "api:<api key id>:<Idempotency-Key>" (each client has its own
    # keys): the same one twice is one submission.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    # sha256 of the normalised answers: a repeat of one key with other answers is told apart
    # (a correction on the forms, a 409 on the API).
    content_digest: Mapped[str | None] = mapped_column(sa.String(64))
    # The visitor went Back, changed answers and sent the same form again.
    corrects_submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL")
    )
    is_reengagement: Mapped[bool] = mapped_column(default=False)
    # Everything the visitor typed, normalised: nothing is lost when the contact keeps older data.
    # Everything the visitor typed, sealed (crm/crypto.py).
    fields: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("submissions.fields"), default=dict
    )
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(500))
    page_url: Mapped[str | None] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = created_at_column()

    contact = relationship("Contact", back_populates="submissions", lazy="raise")

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.form}>"


class SuspectedSpam(Base):
    """A submit that looked automated: kept for review, never a lead, never emailed."""

    __tablename__ = "suspected_spam"

    id: Mapped[int] = mapped_column(primary_key=True)
    form: Mapped[FormKind] = mapped_column(enum_type(FormKind, "form"))
    reason: Mapped[str] = mapped_column(sa.String(40))
    fields: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("suspected_spam.fields"), default=dict
    )
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = created_at_column()
    # Staff found a real person here (a busy hospital network, a fast typist): now a lead.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL")
    )
