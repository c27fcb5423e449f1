"""Server-side staff sessions: the cookie carries a random token; the row says if it still works.

Signing out, disabling a user or changing their password or role ends rows here, so a cookie
copied before that no longer signs anybody in. Sessions also end after STAFF_IDLE_MINUTES
without a request and STAFF_SESSION_HOURS after sign-in, whatever the activity.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import StaffSession, User, utcnow

# Writing last_seen_at on every request would make every page a write; a minute is precise
# enough for a 15-minute idle timeout.
_TOUCH_EVERY = timedelta(seconds=60)


def live_user_ids(now: datetime) -> sa.Select:
    """The ids of staff with a live session: not ended, seen within the idle limit, not too old."""
    config = current_app.config
    return (
        sa.select(StaffSession.user_id)
        .where(
            StaffSession.ended_at.is_(None),
            StaffSession.last_seen_at > now - timedelta(minutes=config["STAFF_IDLE_MINUTES"]),
            StaffSession.created_at > now - timedelta(hours=config["STAFF_SESSION_HOURS"]),
        )
        .distinct()
    )


def start(user: User, ip_address: str | None) -> str:
    """Open a session for a user who just proved who they are; return its new token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        StaffSession(
            token_hash=_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            ip_address=(ip_address or "")[:45] or None,
        )
    )
    db.session.flush()
    return token


def resolve(
    token: str, now: datetime | None = None, *, touch: bool = True
) -> tuple[User | None, str | None]:
    """The signed-in user for a token, or (None, why it ended) for an ended or unknown one.

    With touch=False (a page's background poll) the request does not count as activity, so
    an open tab alone neither keeps the session from idling out nor keeps its user "online".
    """
    now = now or utcnow()
    row = db.session.execute(
        sa.select(StaffSession, User)
        .join(User, User.id == StaffSession.user_id)
        .where(StaffSession.token_hash == _hash(token))
    ).first()
    if row is None:
        return None, None
    session, user = row
    if session.ended_at is not None:
        return None, session.ended_reason
    ended = _expiry_reason(session, user, now)
    if ended:
        _end(session, ended, now)
        return None, ended
    if touch and now - session.last_seen_at >= _TOUCH_EVERY:
        session.last_seen_at = now
    user.session_token = token
    return user, None


def end(token: str, reason: str = "signed_out") -> int | None:
    """End one session (sign-out); return its user's id."""
    session = db.session.scalar(
        sa.select(StaffSession).where(StaffSession.token_hash == _hash(token))
    )
    if session is None or session.ended_at is not None:
        return None
    _end(session, reason, utcnow())
    return session.user_id


def end_all(user_id: int, reason: str) -> int:
    """End every open session of a user at once; return how many."""
    result = db.session.execute(
        sa.update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _expiry_reason(session: StaffSession, user: User, now: datetime) -> str | None:
    config = current_app.config
    if not user.active:
        return "disabled"
    if now - session.created_at >= timedelta(hours=config["STAFF_SESSION_HOURS"]):
        return "lifetime"
    if now - session.last_seen_at >= timedelta(minutes=config["STAFF_IDLE_MINUTES"]):
        return "idle"
    return None


def _end(session: StaffSession, reason: str, now: datetime) -> None:
    session.ended_at = now
    session.ended_reason = reason
    db.session.flush()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
