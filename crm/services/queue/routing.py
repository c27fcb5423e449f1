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
from crm.models import CallTask, User
from crm.models.enums import Role, Skill
from crm.services.windows import parse_window, setting
from crm.services.working_hours import WorkingTime, organisation_working_time

# Which calls each routed skill serves: the task's copies of its contact's facts (veteran,
# peritoneal diagnosis, Spanish asked for), kept by triggers, so the claim's walk tests them
# on the task alone.
SKILL_NEEDS = {
    Skill.va_benefits: lambda: CallTask.needs_va_benefits.is_(True),
    Skill.peritoneal: lambda: CallTask.needs_peritoneal.is_(True),
    Skill.spanish: lambda: CallTask.needs_spanish.is_(True),
}
_CALLERS = (Role.advocate, Role.manager)


@dataclass(frozen=True)
class Routing:
    preferred: tuple[Skill, ...]
    reserved: tuple[Skill, ...]

    def passes(self) -> list[sa.ColumnElement]:
        """Conditions to look through in turn: the contacts that need this advocate, then all."""
        if not self.preferred:
            return [sa.true()]
        return [sa.or_(*(SKILL_NEEDS[skill]() for skill in self.preferred)), sa.true()]

    def allowed(self) -> sa.ColumnElement:
        """Not a contact held back for a skilled colleague on shift."""
        # The copies are never NULL: a contact with no diagnosis does not need peritoneal skill.
        held = sa.or_(sa.false(), *(SKILL_NEEDS[skill]() for skill in self.reserved))
        # Someone with two needs (a Spanish-speaking veteran) suits an advocate with either
        # skill: held back from both, they would wait until nobody skilled was on shift.
        suited = sa.or_(sa.false(), *(SKILL_NEEDS[skill]() for skill in self.preferred))
        return sa.or_(sa.not_(held), suited)


def on_shift(user: User | sa.Row, now: datetime, team: WorkingTime | None = None) -> bool:
    """The user is at work now: a working day, inside their hours (or the organisation's)."""
    team = team or organisation_working_time()
    local = now.astimezone(team.zone)
    hours = parse_window(user.working_hours or setting("WORKING_HOURS"))
    return team.is_working_day(local.date()) and hours.contains(local.time())


def colleagues_of(user_id: sa.ColumnElement | int) -> list[sa.ColumnElement]:
    """Conditions on users: the others who take calls, active."""
    return [User.active.is_(True), User.role.in_(_CALLERS), User.id != user_id]


def routing_for(user: User, now: datetime, colleagues: list[sa.Row] | None = None) -> Routing:
    """What this advocate gets first and what they leave to a colleague right now.

    `colleagues` (skills, working_hours) when the caller has read them already.
    """
    mine = set(user.skills or ())
    preferred = tuple(skill for skill in SKILL_NEEDS if skill.value in mine)
    wanted = [skill for skill in SKILL_NEEDS if skill.value not in mine]
    if not wanted:
        return Routing(preferred, ())
    if colleagues is None:
        colleagues = db.session.execute(
            sa.select(User.skills, User.working_hours).where(*colleagues_of(user.id))
        ).all()
    team = organisation_working_time()
    covered = {
        skill
        for colleague in colleagues
        if on_shift(colleague, now, team)
        for skill in wanted
        if skill.value in (colleague.skills or ())
    }
    return Routing(preferred, tuple(skill for skill in wanted if skill in covered))
