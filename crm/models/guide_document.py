"""The organisation's own designed guide PDF, uploaded by admins; every version is kept."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, utcnow


class GuideDocument(Base):
    __tablename__ = "guide_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 1, 2, 3...: unique, so two uploads at the same moment cannot share a number.
    version: Mapped[int] = mapped_column(unique=True)
    # Deferred: lists and "which version is current" never load megabytes of PDF.
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int]
    page_count: Mapped[int]
    filename: Mapped[str] = mapped_column(sa.String(120))
    uploaded_by_user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The newest active version is the one emailed; going back to an earlier version makes
    # the newer ones inactive (kept, and can be chosen again).
    active: Mapped[bool] = mapped_column(default=True)
