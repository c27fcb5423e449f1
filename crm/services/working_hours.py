"""The organisation's working time: response targets count only these minutes."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from crm.services.windows import parse_window, setting

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Bounds the day-by-day walk; a callback months overdue has long been escalated.
_MAX_DAYS = 366


@dataclass(frozen=True)
class WorkingTime:
    zone: ZoneInfo
    opens: time
    closes: time
    weekdays: frozenset[int]

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in _federal_holidays(day.year)

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself if the team is at work then, else the next time it opens."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                opens = datetime.combine(day, self.opens, tzinfo=self.zone)
                closes = datetime.combine(day, self.closes, tzinfo=self.zone)
                if local < closes:
                    return max(opens, local).astimezone(moment.tzinfo)
            day += timedelta(days=1)
        return moment

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds in [start, end): inside opening hours, on working days only."""
        if end <= start:
            return 0.0
        start_local, end_local = start.astimezone(self.zone), end.astimezone(self.zone)
        total = 0.0
        day = start_local.date()
        for _ in range(_MAX_DAYS):
            if day > end_local.date():
                break
            if self.is_working_day(day):
                opens = datetime.combine(day, self.opens, tzinfo=self.zone)
                closes = datetime.combine(day, self.closes, tzinfo=self.zone)
                overlap = min(closes, end_local) - max(opens, start_local)
                total += max(overlap.total_seconds(), 0.0)
            day += timedelta(days=1)
        return total


@cache
def _federal_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("US", years=year)


def organisation_working_time() -> WorkingTime:
    """The working time configured for the organisation (ORG_TIME_ZONE, WORKING_HOURS, ...)."""
    hours = parse_window(setting("WORKING_HOURS"))
    names = [name.strip().lower()[:3] for name in setting("WORKING_DAYS").split(",")]
    return WorkingTime(
        zone=ZoneInfo(setting("ORG_TIME_ZONE")),
        opens=hours.opens,
        closes=hours.closes,
        weekdays=frozenset(_DAY_NAMES.index(name) for name in names),
    )
