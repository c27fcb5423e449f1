"""Staff accounts."""

import sqlalchemy as sa

from crm.extensions import db
from crm.models import User
from crm.models.enums import Role


def create_user(email: str, name: str, role: Role, password: str) -> User:
    """Create a staff user and commit."""
    user = User(email=email.strip().lower(), name=name.strip(), role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def active_manager_ids() -> list[int]:
    """The managers who receive staff alerts (missed callbacks, undelivered emails)."""
    return list(
        db.session.scalars(
            sa.select(User.id).where(User.role == Role.manager, User.active.is_(True))
        )
    )
