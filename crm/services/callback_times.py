"""When a requested callback is due, in the contact's own time, and how we say so."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm.models.enums import BestTime
from crm.services.windows import calling_hours, setting
from crm.services.working_hours import organisation_working_time

DEFAULT_TIME_ZONE = "America/New_York"
# Each slot is cut to the calling hours: we never call outside them, whatever was asked for.
SLOT_HOURS = {
    BestTime.morning: (time(8), time(12)),
    BestTime.afternoon: (time(12), time(17)),
    BestTime.evening: (time(17), time(21)),
}
# Bounds the search for a moment that suits both the visitor and the team.
_MAX_STEPS = 30


def contact_zone(time_zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def slot_hours(best_time: BestTime) -> tuple[time, time]:
    """The local hours in which this callback may be made."""
    calling = calling_hours()
    start, end = SLOT_HOURS.get(best_time, (calling.opens, calling.closes))
    return max(start, calling.opens), min(end, calling.closes)


def callback_due_at(best_time: BestTime, time_zone: str | None, now: datetime) -> datetime:
    """Return the UTC time at which the requested callback becomes due."""
    zone = contact_zone(time_zone)
    local_now = now.astimezone(zone)
    start, end = slot_hours(best_time)
    if local_now.time() < start:
        day = local_now.date()
    elif local_now.time() < end:
        return now
    else:
        day = local_now.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=zone).astimezone(now.tzinfo)


def expected_call_time(best_time: BestTime, time_zone: str | None, now: datetime) -> datetime:
    """The first moment inside the visitor's slot when the team is also at work."""
    team = organisation_working_time()
    moment = callback_due_at(best_time, time_zone, now)
    for _ in range(_MAX_STEPS):
        opens = team.next_open(moment)
        if opens == moment:
            return moment
        moment = callback_due_at(best_time, time_zone, opens)
    return moment


def describe_callback_promise(best_time: BestTime, time_zone: str | None, now: datetime) -> str:
    """Say concretely, and truthfully, when the advocate will call, in the visitor's own time."""
    zone = contact_zone(time_zone)
    call = expected_call_time(best_time, time_zone, now).astimezone(zone)
    local_now = now.astimezone(zone)
    if best_time == BestTime.asap and call <= local_now:
        minutes = setting("RESPONSE_TARGET_MINUTES")
        return f"An advocate will call you as soon as possible, usually within {minutes} minutes."
    if best_time == BestTime.asap:
        return (
            f"Our advocates are away now. An advocate will call you {_day(call, local_now)} "
            f"{_part_of_day(call)} after {_clock(call)}, your time."
        )
    return f"An advocate will call you {_day(call, local_now)} {best_time.value}, your time."


def _day(call: datetime, local_now: datetime) -> str:
    days = (call.date() - local_now.date()).days
    if days == 0:
        return "this"
    if days == 1:
        return "tomorrow"
    return f"on {call:%A}"


def _part_of_day(call: datetime) -> str:
    return "morning" if call.hour < 12 else "afternoon" if call.hour < 17 else "evening"


def _clock(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"
