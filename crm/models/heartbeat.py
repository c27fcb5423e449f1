"""When a periodic process last proved it is alive: one row per beat, no one's data."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime


class Heartbeat(Base):
    __tablename__ = "heartbeats"

    # "beat": written by the periodic ops.heartbeat task, so a fresh row means beat scheduled
    # it, the broker carried it and a worker ran it.
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
