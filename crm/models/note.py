"""What an advocate wrote down about a contact; a correction is another note."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.crypto import EncryptedText
from crm.models.base import Base, append_only, created_at_column


@append_only
class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    author_user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(EncryptedText("notes.body"))
    created_at: Mapped[datetime] = created_at_column()
