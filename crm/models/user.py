"""Staff who sign in: advocates, managers and admins, and their server-side sessions."""

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, created_at_column, enum_type, utcnow
from crm.models.enums import Role


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    active: Mapped[bool] = mapped_column(default=True)
    # Skill codes (crm.models.enums.Skill) and languages (e.g. "en", "es"). The call queue
    # routes by skills only: a veteran to an advocate with the VA-benefits skill, a Spanish
    # speaker to one with the Spanish skill (crm/services/queue/routing.py).
    skills: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=lambda: ["en"])
    # "HH:MM-HH:MM" in ORG_TIME_ZONE, or None for the organisation's WORKING_HOURS.
    working_hours: Mapped[str | None] = mapped_column(sa.String(11))
    # The new-lead round robin (crm/services/lead_round_robin.py): the number of the last turn
    # this advocate took (the lowest, or none, goes next) and when. A counter, not the time:
    # submits that queued for their turn, or share a moment, must still go round in order.
    last_lead_turn: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_lead_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # Set by the session loader: Flask-Login keeps this session's token, not the user id, in
    # the cookie, so that ending the session server-side ends the cookie too.
    session_token = None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class StaffSession(Base):
    """One sign-in: the cookie carries its token; only the token's hash is stored."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(sa.String(20))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
