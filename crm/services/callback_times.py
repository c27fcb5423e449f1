"""When a requested callback is due, in the contact's own time, and how we say so."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm.models.enums import BestTime

DEFAULT_TIME_ZONE = "America/New_York"
# We never call outside these local hours, whatever was asked for.
CALLING_HOURS = (8, 21)
SLOT_HOURS = {
    BestTime.morning: (8, 12),
    BestTime.afternoon: (12, 17),
    BestTime.evening: (17, 21),
}


def contact_zone(time_zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def _at_local_hour(local_now: datetime, hour: int, days_ahead: int) -> datetime:
    day = local_now.date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour), tzinfo=local_now.tzinfo)


def callback_due_at(best_time: BestTime, time_zone: str | None, now: datetime) -> datetime:
    """Return the UTC time at which the requested callback becomes due."""
    local_now = now.astimezone(contact_zone(time_zone))
    start, end = SLOT_HOURS.get(best_time, CALLING_HOURS)
    if local_now.hour < start:
        due = _at_local_hour(local_now, start, 0)
    elif local_now.hour < end:
        return now
    else:
        due = _at_local_hour(local_now, start, 1)
    return due.astimezone(now.tzinfo)


def describe_callback_promise(best_time: BestTime, time_zone: str | None, now: datetime) -> str:
    """Say concretely when the advocate will call, in the visitor's own time."""
    zone = contact_zone(time_zone)
    due = callback_due_at(best_time, time_zone, now).astimezone(zone)
    local_now = now.astimezone(zone)
    if best_time == BestTime.asap and due <= local_now:
        return "An advocate will call you as soon as possible, usually within 15 minutes."
    day = "this" if due.date() == local_now.date() else "tomorrow"
    if best_time == BestTime.asap:
        return (
            f"Our advocates are away now. An advocate will call you {day} morning "
            "after 8am, your time."
        )
    part = best_time.value
    if due <= local_now:
        return f"An advocate will call you this {part}, your time."
    return f"An advocate will call you {day} {part}, your time."
