"""Credentials of the server-to-server clients of the JSON API."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, created_at_column


class ApiKey(Base):
    """One client's key; the key itself is never stored, only its hash."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who holds it ("marketing-site"); not unique, so that a rotation can overlap two keys.
    name: Mapped[str] = mapped_column(sa.String(80))
    # The public start of the key ("crm_3f9a1c2b"): names the key in listings, logs and
    # `api-key revoke`, and finds its row before the hash is compared.
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    # SHA-256 of the whole key, hex. The key carries 256 random bits, so no one can guess it
    # from the hash: a slow password hash (argon2, scrypt) protects low-entropy secrets and
    # would only add tens of milliseconds to every API call. Not an HMAC under SECRET_KEY
    # either: rotating SECRET_KEY must not invalidate every client's key.
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = created_at_column()
    # Coarse (see services/api_keys.py): written at most once per few minutes per key.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<ApiKey {self.id} {self.prefix}>"
