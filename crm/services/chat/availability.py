"""Whether anyone can answer a chat now: inside working hours, with an advocate signed in."""

from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import User
from crm.models.enums import Role
from crm.services import staff_sessions
from crm.services.working_hours import organisation_working_time

# Managers answer chats too (they hold the advocates' pages); admins never see patients.
ANSWERERS = (Role.advocate, Role.manager)


def advocates_available(now: datetime) -> bool:
    """True inside working hours while an active advocate or manager has a live session."""
    if organisation_working_time().next_open(now) != now:
        return False
    someone = db.session.scalar(signed_in_answerers(now).limit(1))
    return someone is not None


def signed_in_answerers(now: datetime) -> sa.Select:
    """The ids and names of active advocates and managers with a live session, by name."""
    return (
        sa.select(User.id, User.name)
        .where(
            User.id.in_(staff_sessions.live_user_ids(now)),
            User.active.is_(True),
            User.role.in_(ANSWERERS),
        )
        .order_by(User.name, User.id)
    )
