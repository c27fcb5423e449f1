"""Staff accounts: create, change, disable, and check a sign-in."""

import re

import sqlalchemy as sa

from crm.extensions import db
from crm.models import User, utcnow
from crm.models.enums import Role, Skill
from crm.services import passwords, staff_sessions

_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


class UserRefused(ValueError):
    """The change would leave a bad account (a taken email, a weak password); says why."""


def create_user(
    email: str,
    name: str,
    role: Role,
    password: str,
    *,
    skills: list[str] | None = None,
    languages: list[str] | None = None,
    working_hours: str | None = None,
    check_policy: bool = True,
) -> User:
    """Add a staff user to the session (flushed) with an argon2id hash of the password."""
    email = email.strip().lower()
    if find_user(email) is not None:
        raise UserRefused("A user with that email already exists.")
    if check_policy:
        passwords.check_policy(password, email=email, name=name)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=passwords.hash_password(password),
        skills=_skills(skills or []),
        languages=_languages(languages or ["en"]),
        working_hours=_working_hours(working_hours),
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    name: str,
    role: Role,
    skills: list[str],
    languages: list[str],
    working_hours: str | None,
    active: bool,
    by_user_id: int | None = None,
) -> list[str]:
    """Change an account; a disabled one is signed out everywhere at once. Returns what changed.

    Refuses (UserRefused) to let an admin disable themselves, or to leave no active admin.
    """
    if by_user_id == user.id and not active:
        raise UserRefused("You cannot disable your own account; ask another admin.")
    if user.role == Role.admin and user.active and (role != Role.admin or not active):
        _keep_another_admin(user)
    wanted = {
        "name": name.strip(),
        "role": role,
        "skills": _skills(skills),
        "languages": _languages(languages),
        "working_hours": _working_hours(working_hours),
        "active": active,
    }
    changed = [field for field, value in wanted.items() if getattr(user, field) != value]
    for field in changed:
        setattr(user, field, wanted[field])
    if "active" in changed and not active:
        staff_sessions.end_all(user.id, "disabled")
    if "role" in changed:
        # A role taken away must not live on in a cookie issued before.
        staff_sessions.end_all(user.id, "role_changed")
    db.session.flush()
    return changed


def disable_user(user: User, *, by_user_id: int | None = None) -> list[str]:
    """Disable an account, keeping everything else; returns what changed."""
    return update_user(
        user,
        name=user.name,
        role=user.role,
        skills=user.skills,
        languages=user.languages,
        working_hours=user.working_hours,
        active=False,
        by_user_id=by_user_id,
    )


def _keep_another_admin(user: User) -> None:
    # Locks the active admins' rows (PostgreSQL), so two admins who demote each other at the
    # same moment cannot both succeed and leave nobody able to manage accounts.
    admins = db.session.scalars(
        sa.select(User.id)
        .where(User.role == Role.admin, User.active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    if not [admin_id for admin_id in admins if admin_id != user.id]:
        raise UserRefused("This is the last active admin: make another admin first.")


def set_password(user: User, password: str) -> None:
    passwords.check_policy(password, email=user.email, name=user.name)
    user.password_hash = passwords.hash_password(password)
    staff_sessions.end_all(user.id, "password_changed")
    db.session.flush()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None, in about the same time either way."""
    user = find_user(email)
    if user is None:
        passwords.waste_equal_time(password)
        return None
    if not passwords.verify(user.password_hash, password) or not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_sign_in_at = utcnow()
    db.session.flush()
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def staff_list() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.active.desc(), User.name)))


def advocates() -> list[User]:
    """Active staff who take calls (advocates and managers), by name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.active.is_(True), User.role.in_([Role.advocate, Role.manager]))
            .order_by(User.name)
        )
    )


def active_manager_ids() -> list[int]:
    """The managers who receive staff alerts (missed callbacks, undelivered emails)."""
    return list(
        db.session.scalars(
            sa.select(User.id).where(User.role == Role.manager, User.active.is_(True))
        )
    )


def _skills(values: list[str]) -> list[str]:
    unknown = [value for value in values if Skill.from_value(value) is None]
    if unknown:
        raise UserRefused(f"Unknown skills: {', '.join(unknown)}.")
    return sorted(set(values))


def _languages(values: list[str]) -> list[str]:
    codes = sorted({value.strip().lower() for value in values if value.strip()})
    if not codes or any(not re.fullmatch(r"[a-z]{2,3}", code) for code in codes):
        raise UserRefused("Languages are two- or three-letter codes such as en, es.")
    return codes


def _working_hours(value: str | None) -> str | None:
    value = (value or "").strip()
    if value and not _HOURS.match(value):
        raise UserRefused("Working hours look like 09:00-17:00.")
    return value or None
