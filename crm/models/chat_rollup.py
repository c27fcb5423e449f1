"""Chat report roll-ups, derived from chats and their system messages (crm/services/rollups/).

Ordinary tables (not append-only): `flask crm rebuild-rollups` empties and recomputes them.
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base


class RollupChat(Base):
    """How far one chat has been counted in chat_daily: waiting, active or ended.

    A chat only moves forward (waiting, then active or missed, then closed), so the stage
    counted says which parts of it chat_daily already holds (chat_fold.py).
    """

    __tablename__ = "rollup_chats"

    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stage: Mapped[str] = mapped_column(sa.String(10))


class ChatDaily(Base):
    """Chats started on one day (ORG_TIME_ZONE) counted under one measure, advocate and value.

    Measures (crm/services/rollups/chat_fold.py): started and missed per hour of the day,
    lead, wait (per wait bucket), accepted and closed (per advocate, closed per outcome),
    handled (per advocate and handling-time bucket). seconds_total sums the waits or the
    handling times the row counts.
    """

    __tablename__ = "chat_daily"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    measure: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    advocate_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    value: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default="")
    chats: Mapped[int] = mapped_column(default=0)
    seconds_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
