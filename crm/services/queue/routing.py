"""Skill routing: some contacts go first to an advocate who knows their situation.

An advocate with a skill gets the contacts that need it first. One without it skips them
while a colleague who has it is on shift; with nobody skilled on shift, anyone may call.
A contact with two needs (a Spanish-speaking veteran) may go to an advocate with either.

Language is routed as a skill: a contact who asked for calls in Spanish needs an advocate
with the `spanish` skill. That skill is the one rule for "speaks Spanish" everywhere; the
free-form `languages` list on a user is for people to read and routes nothing, so a
manager who wants someone to take Spanish calls ticks the skill.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, User
from crm.models.enums import Diagnosis, Language, Role, Skill
from crm.services.windows import parse_window, setting
from crm.services.working_hours import organisation_working_time

# Which contacts each routed skill serves.
SKILL_NEEDS = {
    Skill.va_benefits: lambda: Contact.is_veteran.is_(True),
    Skill.peritoneal: lambda: Contact.diagnosis == Diagnosis.peritoneal,
    Skill.spanish: lambda: Contact.preferred_language == Language.es,
}
_CALLERS = (Role.advocate, Role.manager)


@dataclass(frozen=True)
class Routing:
    preferred: tuple[Skill, ...]
    reserved: tuple[Skill, ...]

    def first(self) -> list[sa.ColumnElement]:
        """ORDER BY keys that put the contacts this advocate is the right person for first."""
        if not self.preferred:
            return []
        needs = sa.or_(*(SKILL_NEEDS[skill]() for skill in self.preferred))
        return [sa.case((needs, 0), else_=1)]

    def allowed(self) -> sa.ColumnElement:
        """Not a contact held back for a skilled colleague on shift."""
        held = sa.or_(sa.false(), *(_needs(skill) for skill in self.reserved))
        # Someone with two needs (a Spanish-speaking veteran) suits an advocate with either
        # skill: held back from both, they would wait until nobody skilled was on shift.
        suited = sa.or_(sa.false(), *(_needs(skill) for skill in self.preferred))
        return sa.or_(sa.not_(held), suited)


def _needs(skill: Skill) -> sa.ColumnElement:
    # A contact with no diagnosis makes "needs peritoneal" NULL, not false: it is not a need.
    return sa.func.coalesce(SKILL_NEEDS[skill](), sa.false())


def on_shift(user: User, now: datetime) -> bool:
    """The user is at work now: a working day, inside their hours (or the organisation's)."""
    return working_now(user.working_hours, now)


def working_now(working_hours: str | None, now: datetime) -> bool:
    """Someone with these working hours (None: the organisation's) is at work now."""
    team = organisation_working_time()
    local = now.astimezone(team.zone)
    hours = parse_window(working_hours or setting("WORKING_HOURS"))
    return team.is_working_day(local.date()) and hours.contains(local.time())


def routing_for(user: User, now: datetime) -> Routing:
    """What this advocate gets first and what they leave to a colleague right now."""
    mine = set(user.skills or ())
    preferred = tuple(skill for skill in SKILL_NEEDS if skill.value in mine)
    wanted = [skill for skill in SKILL_NEEDS if skill.value not in mine]
    if not wanted:
        return Routing(preferred, ())
    colleagues = db.session.scalars(
        sa.select(User).where(User.active.is_(True), User.role.in_(_CALLERS), User.id != user.id)
    ).all()
    covered = {
        skill
        for colleague in colleagues
        if on_shift(colleague, now)
        for skill in wanted
        if skill.value in (colleague.skills or ())
    }
    return Routing(preferred, tuple(skill for skill in wanted if skill in covered))
