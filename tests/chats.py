"""Helpers for the chat tests: an organisation at work whenever the test runs."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import holidays

# A day apart or more at any moment: one of them is not on a US federal holiday.
_ZONES = ("Etc/GMT+12", "Etc/GMT-14", "UTC")


def open_around_the_clock(config_override) -> None:
    """Working hours all day, every day, in a zone whose date today is no federal holiday."""
    now = datetime.now(UTC)
    zone = next(
        name
        for name in _ZONES
        if now.astimezone(ZoneInfo(name)).date()
        not in holidays.country_holidays("US", years=now.year)
    )
    config_override(
        ORG_TIME_ZONE=zone,
        WORKING_HOURS="00:00-23:59:59.999999",
        WORKING_DAYS="mon,tue,wed,thu,fri,sat,sun",
    )
