"""When a requested callback falls due, in the visitor's own time, and what we promise them."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from crm.models.enums import BestTime
from crm.services.callback_times import callback_due_at, describe_callback_promise

NEW_YORK = ZoneInfo("America/New_York")
HONOLULU = ZoneInfo("Pacific/Honolulu")


def at(zone: ZoneInfo, *fields: int) -> datetime:
    """A wall-clock time in a zone, as the aware UTC instant the app works with."""
    return datetime(*fields, tzinfo=zone).astimezone(UTC)


def test_asap_inside_calling_hours_is_due_now():
    now = at(NEW_YORK, 2026, 1, 15, 11, 0)

    assert callback_due_at(BestTime.asap, "America/New_York", now) == now


def test_asap_late_at_night_waits_for_eight_the_next_morning():
    now = at(NEW_YORK, 2026, 1, 15, 23, 0)

    due = callback_due_at(BestTime.asap, "America/New_York", now)

    assert due == at(NEW_YORK, 2026, 1, 16, 8, 0)
    assert due.utcoffset() is not None


def test_asap_in_the_small_hours_waits_for_eight_the_same_morning():
    now = at(NEW_YORK, 2026, 1, 16, 2, 30)

    assert callback_due_at(BestTime.asap, "America/New_York", now) == at(
        NEW_YORK, 2026, 1, 16, 8, 0
    )


def test_morning_requested_in_the_afternoon_is_due_tomorrow_at_eight():
    now = at(NEW_YORK, 2026, 1, 15, 14, 0)

    assert callback_due_at(BestTime.morning, "America/New_York", now) == at(
        NEW_YORK, 2026, 1, 16, 8, 0
    )


def test_afternoon_requested_in_the_morning_is_due_at_noon_today():
    now = at(NEW_YORK, 2026, 1, 15, 9, 0)

    assert callback_due_at(BestTime.afternoon, "America/New_York", now) == at(
        NEW_YORK, 2026, 1, 15, 12, 0
    )


def test_evening_requested_during_the_evening_is_due_now():
    now = at(NEW_YORK, 2026, 1, 15, 18, 45)

    assert callback_due_at(BestTime.evening, "America/New_York", now) == now


def test_evening_requested_after_nine_is_due_tomorrow_at_five():
    now = at(NEW_YORK, 2026, 1, 15, 21, 0)

    assert callback_due_at(BestTime.evening, "America/New_York", now) == at(
        NEW_YORK, 2026, 1, 16, 17, 0
    )


def test_due_time_follows_the_visitors_zone_not_the_east_coast():
    # 10:00 in Honolulu is 15:00 in New York: the afternoon has begun there but not here.
    now = at(HONOLULU, 2026, 1, 15, 10, 0)

    due = callback_due_at(BestTime.afternoon, "Pacific/Honolulu", now)

    assert due == at(HONOLULU, 2026, 1, 15, 12, 0)
    assert due == datetime(2026, 1, 15, 22, 0, tzinfo=UTC)


def test_eight_oclock_after_clocks_spring_forward_is_eight_on_the_wall():
    # US clocks go forward at 02:00 on Sunday 8 March 2026: 08:00 that day is 12:00 UTC, not 13:00.
    now = at(NEW_YORK, 2026, 3, 7, 23, 0)

    due = callback_due_at(BestTime.asap, "America/New_York", now)

    assert due == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    assert due.astimezone(NEW_YORK).hour == 8


def test_eight_oclock_after_clocks_fall_back_is_eight_on_the_wall():
    # US clocks go back at 02:00 on Sunday 1 November 2026: 08:00 that day is 13:00 UTC.
    now = at(NEW_YORK, 2026, 10, 31, 14, 0)

    due = callback_due_at(BestTime.morning, "America/New_York", now)

    assert due == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    assert due.astimezone(NEW_YORK).hour == 8


@pytest.mark.parametrize("zone", [None, "", "Mars/Olympus_Mons", "../../etc/passwd", "not a zone"])
def test_unknown_or_missing_zone_falls_back_to_new_york(zone):
    # 13:00 UTC is 08:00 in New York (morning has begun) but 05:00 in Los Angeles.
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    assert callback_due_at(BestTime.morning, zone, now) == datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
    assert describe_callback_promise(BestTime.morning, zone, now) == (
        "An advocate will call you this morning, your time."
    )


def test_promise_for_asap_inside_hours_is_a_call_within_minutes():
    now = at(NEW_YORK, 2026, 1, 15, 11, 0)

    promise = describe_callback_promise(BestTime.asap, "America/New_York", now)

    assert promise == "An advocate will call you as soon as possible, usually within 15 minutes."


def test_promise_for_asap_at_night_says_tomorrow_morning_after_eight():
    now = at(NEW_YORK, 2026, 1, 15, 23, 0)

    promise = describe_callback_promise(BestTime.asap, "America/New_York", now)

    assert promise == (
        "Our advocates are away now. An advocate will call you tomorrow morning "
        "after 8am, your time."
    )


def test_promise_for_asap_before_dawn_says_this_morning():
    now = at(NEW_YORK, 2026, 1, 16, 2, 30)

    promise = describe_callback_promise(BestTime.asap, "America/New_York", now)

    assert "this morning after 8am, your time" in promise


def test_promise_for_a_later_slot_today_says_this_afternoon_your_time():
    now = at(NEW_YORK, 2026, 1, 15, 9, 0)

    promise = describe_callback_promise(BestTime.afternoon, "America/New_York", now)

    assert promise == "An advocate will call you this afternoon, your time."


def test_promise_inside_the_requested_slot_says_this_afternoon_your_time():
    now = at(NEW_YORK, 2026, 1, 15, 13, 0)

    promise = describe_callback_promise(BestTime.afternoon, "America/New_York", now)

    assert promise == "An advocate will call you this afternoon, your time."


def test_promise_for_a_slot_already_over_says_tomorrow_morning():
    now = at(NEW_YORK, 2026, 1, 15, 14, 0)

    promise = describe_callback_promise(BestTime.morning, "America/New_York", now)

    assert promise == "An advocate will call you tomorrow morning, your time."


def test_promise_is_worded_in_the_visitors_zone():
    # 19:00 UTC: 14:00 in New York (morning over), 09:00 in Honolulu (still morning).
    now = datetime(2026, 1, 15, 19, 0, tzinfo=UTC)

    assert describe_callback_promise(BestTime.morning, "Pacific/Honolulu", now) == (
        "An advocate will call you this morning, your time."
    )
    assert describe_callback_promise(BestTime.morning, "America/New_York", now) == (
        "An advocate will call you tomorrow morning, your time."
    )


LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def test_promise_on_a_saturday_waits_for_the_team_on_monday():
    # Saturday noon: inside the visitor's calling hours, but the team works Monday to Friday.
    now = at(NEW_YORK, 2026, 1, 24, 12, 0)

    promise = describe_callback_promise(BestTime.asap, "America/New_York", now)

    assert promise == (
        "Our advocates are away now. An advocate will call you on Monday morning "
        "after 8am, your time."
    )


def test_promise_after_the_team_has_gone_home_says_tomorrow_even_inside_calling_hours():
    now = at(NEW_YORK, 2026, 1, 15, 20, 30)

    promise = describe_callback_promise(BestTime.asap, "America/New_York", now)

    assert "tomorrow morning after 8am" in promise


def test_promise_waits_for_the_visitors_own_calling_hours_when_the_team_is_already_in():
    # 06:00 in Los Angeles is 09:00 in New York: the team is in, but it is too early to call.
    now = at(LOS_ANGELES, 2026, 1, 15, 6, 0)

    promise = describe_callback_promise(BestTime.asap, "America/Los_Angeles", now)

    assert "this morning after 8am, your time" in promise


def test_a_slot_on_a_holiday_is_promised_for_the_next_working_day():
    # Thursday 1 January 2026 is New Year's Day; Friday is a working day.
    now = at(NEW_YORK, 2026, 1, 1, 9, 0)

    promise = describe_callback_promise(BestTime.afternoon, "America/New_York", now)

    assert promise == "An advocate will call you tomorrow afternoon, your time."


def test_the_promised_minutes_are_the_escalation_target(app_ctx, config_override):
    config_override(RESPONSE_TARGET_MINUTES=30)
    now = at(NEW_YORK, 2026, 1, 15, 11, 0)

    promise = describe_callback_promise(BestTime.asap, "America/New_York", now)

    assert promise.endswith("usually within 30 minutes.")


def test_calling_hours_come_from_config(app_ctx, config_override):
    config_override(CALLING_HOURS="09:30-20:00")
    now = at(NEW_YORK, 2026, 1, 15, 7, 0)

    assert callback_due_at(BestTime.asap, "America/New_York", now) == at(
        NEW_YORK, 2026, 1, 15, 9, 30
    )
    assert "this morning after 9:30am" in describe_callback_promise(
        BestTime.asap, "America/New_York", now
    )
