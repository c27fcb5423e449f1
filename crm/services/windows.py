"""The daily windows, each named once in config: calling hours, email send hours, working hours."""

from dataclasses import dataclass
from datetime import time

from flask import current_app, has_app_context

import config


@dataclass(frozen=True)
class DailyWindow:
    opens: time
    closes: time

    def contains(self, moment: time) -> bool:
        return self.opens <= moment < self.closes


def parse_window(text: str) -> DailyWindow:
    """Read "08:00-21:00" into a window."""
    opens, closes = (time.fromisoformat(part.strip()) for part in text.split("-"))
    if not opens < closes:
        raise ValueError(f"a daily window must open before it closes: {text!r}")
    return DailyWindow(opens, closes)


def setting(name: str):
    """The app's setting, or config.py's own value outside an app (pure functions, unit tests)."""
    return current_app.config[name] if has_app_context() else getattr(config.Config, name)


def calling_hours() -> DailyWindow:
    """When anyone may be called, in their own time zone (TCPA: 8:00 to 21:00)."""
    return parse_window(setting("CALLING_HOURS"))


def email_send_hours() -> DailyWindow:
    """When commercial email may arrive, in the recipient's own time zone."""
    return parse_window(setting("EMAIL_SEND_HOURS"))
