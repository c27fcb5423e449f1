"""Which emails each form plans, when a nurture email may go, and when a sequence stops."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm.models import Contact, OutboxMessage
from crm.models.enums import CloseOutcome, FormKind, OutboxKind, Stage
from crm.services.sequences import is_commercial, next_send_time, steps_for, stop_reason

NEW_YORK = ZoneInfo("America/New_York")
HONOLULU = ZoneInfo("Pacific/Honolulu")
GUIDE_EMAIL = OutboxKind.guide_email
CHECK_IN = OutboxKind.guide_check_in
OFFER = OutboxKind.specialist_offer
TRIED = OutboxKind.tried_to_reach


def at(*fields: int, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime(*fields, tzinfo=zone).astimezone(UTC)


def contact(stage=Stage.new, outcome=None, time_zone="America/New_York") -> Contact:
    return Contact(first_name="Maria", stage=stage, close_outcome=outcome, time_zone=time_zone)


def email(kind: OutboxKind) -> OutboxMessage:
    return OutboxMessage(kind=kind)


@pytest.mark.parametrize(
    ("form", "consent", "expected"),
    [
        (FormKind.guide, True, [(GUIDE_EMAIL, 0), (CHECK_IN, 2), (OFFER, 7)]),
        (FormKind.guide, False, [(GUIDE_EMAIL, 0)]),
        (FormKind.callback, True, [(OutboxKind.callback_confirmation, 0)]),
        (FormKind.callback, False, [(OutboxKind.callback_confirmation, 0)]),
        (FormKind.specialist_match, True, [(OutboxKind.specialist_confirmation, 0)]),
        (FormKind.specialist_match, False, [(OutboxKind.specialist_confirmation, 0)]),
    ],
)
def test_each_form_plans_its_emails_and_nurture_only_with_consent(form, consent, expected):
    steps = steps_for(form, email_consent=consent)

    assert [(step.kind, step.delay) for step in steps] == [
        (kind, timedelta(days=days)) for kind, days in expected
    ]


def test_only_the_nurture_and_tried_to_reach_emails_are_commercial():
    commercial = {kind for kind in OutboxKind if is_commercial(kind)}

    assert commercial == {CHECK_IN, OFFER, TRIED}


# --- the send window -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "time_zone", "now", "expected"),
    [
        pytest.param(CHECK_IN, "America/New_York", at(2026, 3, 10, 7, 59), at(2026, 3, 10, 8, 0),
                     id="before-eight-waits-for-eight"),
        pytest.param(CHECK_IN, "America/New_York", at(2026, 3, 10, 0, 30), at(2026, 3, 10, 8, 0),
                     id="after-midnight-same-morning"),
        pytest.param(CHECK_IN, "America/New_York", at(2026, 3, 10, 8, 0), at(2026, 3, 10, 8, 0),
                     id="eight-sharp-is-open"),
        pytest.param(OFFER, "America/New_York", at(2026, 3, 10, 19, 59), at(2026, 3, 10, 19, 59),
                     id="last-minute-is-open"),
        pytest.param(OFFER, "America/New_York", at(2026, 3, 10, 20, 0), at(2026, 3, 11, 8, 0),
                     id="eight-pm-is-closed"),
        pytest.param(CHECK_IN, "America/New_York", at(2026, 3, 10, 23, 0), at(2026, 3, 11, 8, 0),
                     id="late-night-next-morning"),
        pytest.param(CHECK_IN, "Pacific/Honolulu", at(2026, 3, 10, 18, 0),
                     at(2026, 3, 10, 18, 0), id="honolulu-afternoon-open"),
        pytest.param(CHECK_IN, "Pacific/Honolulu", at(2026, 3, 10, 9, 0),
                     at(2026, 3, 10, 8, 0, zone=HONOLULU), id="honolulu-still-night"),
        pytest.param(CHECK_IN, None, at(2026, 3, 10, 23, 0), at(2026, 3, 11, 8, 0),
                     id="unknown-zone-new-york"),
        pytest.param(CHECK_IN, "Mars/Olympus", at(2026, 3, 10, 23, 0), at(2026, 3, 11, 8, 0),
                     id="bad-zone-new-york"),
        pytest.param(CHECK_IN, "America/New_York", at(2026, 3, 8, 1, 30), at(2026, 3, 8, 8, 0),
                     id="spring-forward-night"),
        pytest.param(CHECK_IN, "America/New_York", at(2026, 10, 31, 23, 0), at(2026, 11, 1, 8, 0),
                     id="fall-back-night"),
        pytest.param(GUIDE_EMAIL, "America/New_York", at(2026, 3, 10, 3, 0),
                     at(2026, 3, 10, 3, 0), id="transactional-any-hour"),
        pytest.param(OutboxKind.callback_escalation, "Pacific/Honolulu", at(2026, 3, 10, 8, 0),
                     at(2026, 3, 10, 8, 0), id="manager-alert-any-hour"),
    ],
)  # fmt: skip
def test_nurture_email_waits_for_the_contacts_local_send_window(kind, time_zone, now, expected):
    send_at = next_send_time(email(kind), contact(time_zone=time_zone), now)

    assert send_at == expected
    assert send_at.utcoffset() == timedelta(0)


# --- stop rules ---------------------------------------------------------------------------

CLOSED = Stage.closed


@pytest.mark.parametrize(
    ("kind", "stage", "outcome", "suppressed", "reason"),
    [
        (CHECK_IN, Stage.new, None, False, None),
        (CHECK_IN, Stage.attempting, None, False, None),
        (CHECK_IN, Stage.contacted, None, False, "reached"),
        (OFFER, Stage.qualified, None, False, "reached"),
        (OFFER, Stage.referred, None, False, "reached"),
        (CHECK_IN, CLOSED, CloseOutcome.helped, False, "closed"),
        (OFFER, CLOSED, CloseOutcome.unreachable, False, "closed"),
        (CHECK_IN, CLOSED, CloseOutcome.do_not_contact, False, "do_not_contact"),
        (OFFER, CLOSED, CloseOutcome.deceased, True, "deceased"),
        (CHECK_IN, Stage.new, None, True, "unsubscribed"),
        (OFFER, Stage.contacted, None, True, "unsubscribed"),
        (GUIDE_EMAIL, Stage.new, None, True, None),
        (GUIDE_EMAIL, Stage.contacted, None, False, None),
        (GUIDE_EMAIL, CLOSED, CloseOutcome.not_interested, False, None),
        (GUIDE_EMAIL, CLOSED, CloseOutcome.do_not_contact, False, "do_not_contact"),
        (OutboxKind.callback_confirmation, CLOSED, CloseOutcome.deceased, False, "deceased"),
        (OutboxKind.specialist_confirmation, Stage.new, None, True, None),
        (OutboxKind.callback_escalation, CLOSED, CloseOutcome.do_not_contact, True, None),
        # The email that says we stopped calling goes to those closed as unreachable only.
        (TRIED, CLOSED, CloseOutcome.unreachable, False, None),
        (TRIED, CLOSED, CloseOutcome.unreachable, True, "unsubscribed"),
        (TRIED, CLOSED, CloseOutcome.not_interested, False, "closed"),
        (TRIED, CLOSED, CloseOutcome.deceased, False, "deceased"),
        (TRIED, Stage.attempting, None, False, None),
    ],
)
def test_when_a_sequence_stops(kind, stage, outcome, suppressed, reason):
    assert stop_reason(email(kind), contact(stage, outcome), suppressed) == reason
