"""Small fixed referrals and guides around New York's midnight, for the report's page tests.

Written through the services staff, the relay and the guide link use, at fixed times, then
folded into the roll-ups. The period 10-11 November 2026 (New York) holds:

- a match email naming two specialists, sent at 23:30 on the 10th in New York (the 11th in
  UTC): one referral has an appointment and was seen (days later: it still counts in the
  10th's cohort), the other was declined;
- a VA claims hand-off sent at 23:59 on the 11th, with an appointment; another at midnight
  of the 12th is outside the period;
- a guide request at 23:30 on the 10th with a printed copy: emailed, sent again and emailed
  again, its link opened twice, printed and shipped (each step counts once);
- a guide request at noon on the 10th, emailed and never opened; one at midnight of the
  12th, emailed, is outside.
"""

from datetime import UTC, datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import GuideFulfilment, OutboxMessage, Submission
from crm.models.enums import FormKind, OutboxKind, OutboxStatus, ReferralStatus, Role
from crm.services import guide_links, guide_resend, outbox, referrals, rollups
from crm.services.actors import Actor
from crm.services.fulfilment import mark_printed, mark_shipped
from tests.factories import make_contact, make_user
from tests.specialists import NEAR_BOSTON, PROVIDENCE, make_specialist

PERIOD = "start=2026-11-10&end=2026-11-11"
REFERRALS = [
    [
        "Referral",
        "Sent",
        "Appointment scheduled",
        "Seen",
        "Declined",
        "Appointment / sent",
        "Seen / appointment",
    ],
    ["Specialist matches", "2", "1", "1", "1", "50.0%", "100.0%"],
    ["VA claims hand-offs", "1", "1", "0", "0", "100.0%", "0.0%"],
]
GUIDES = [
    ["Step", "Guide requests", "Share of the step before"],
    ["Emailed (delivered)", "2", "n/a"],
    ["Opened the link in the email", "1", "50.0%"],
    ["Printed copy asked for", "1", "n/a"],
    ["Printed", "1", "100.0%"],
    ["Shipped", "1", "100.0%"],
]
TREND = [
    [
        "Day",
        "Specialist matches sent",
        "VA claims hand-offs",
        "Guides emailed",
        "Guide links opened",
        "Printed guides shipped",
    ],
    ["2026-11-10", "2", "0", "2", "1", "1"],
    ["2026-11-11", "0", "1", "0", "0", "0"],
]


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _emailed(contact_id: int, at: datetime) -> None:
    """Every guide email of the contact still waiting is delivered at `at` (as the relay marks)."""
    waiting = db.session.scalars(
        sa.select(OutboxMessage.id).where(
            OutboxMessage.contact_id == contact_id,
            OutboxMessage.kind == OutboxKind.guide_email,
            OutboxMessage.status == OutboxStatus.pending,
        )
    ).all()
    for message_id in waiting:
        outbox.mark_sent(message_id, at)


_ADDRESS = {"line1": "1 Example St", "line2": None, "city": "Boston", "state": "MA", "zip": "02110"}


def _guide(at: datetime, printed: bool = False):
    mailed = {"printed_guide": True, "mailing_address": _ADDRESS} if printed else {}
    contact = make_contact(FormKind.guide, received_at=at, details=mailed)
    submission = db.session.scalars(
        sa.select(Submission).where(Submission.contact_id == contact.id)
    ).one()
    return contact, submission


def _move(referral, to: ReferralStatus, user_id: int, at: datetime) -> None:
    referrals.update_status(
        referral.contact_id, referral.id, to, user_id, expected_from=referral.status, now=at
    )


def seed_referral_data() -> dict:
    """The referrals and guides above, committed and folded into the roll-ups."""
    ann = make_user(Role.advocate, name="Ann Avery")
    doctors = [
        make_specialist("Dr. Example One", ["thoracic_oncology"], NEAR_BOSTON),
        make_specialist("Dr. Example Two", ["thoracic_oncology"], PROVIDENCE),
    ]
    asked = make_contact(FormKind.specialist_match, received_at=utc(10, 12))
    seen, declined = referrals.send_match(asked.id, doctors, ann.id, now=utc(11, 4, 30))
    _move(seen, ReferralStatus.appointment_scheduled, ann.id, utc(13, 15))
    _move(seen, ReferralStatus.seen, ann.id, utc(20, 15))
    _move(declined, ReferralStatus.declined, ann.id, utc(12, 15))
    veteran = make_contact(FormKind.callback, is_veteran=True, received_at=utc(10, 12))
    handed = referrals.hand_off_va_claims(veteran.id, ann.id, now=utc(12, 4, 59))
    _move(handed, ReferralStatus.appointment_scheduled, ann.id, utc(14, 15))
    later = make_contact(FormKind.callback, is_veteran=True, received_at=utc(10, 12))
    referrals.hand_off_va_claims(later.id, ann.id, now=utc(12, 5, 0))

    printed, request = _guide(utc(11, 4, 30), printed=True)
    _emailed(printed.id, utc(11, 4, 31))
    guide_resend.resend_guide(printed.id, ann.id)
    _emailed(printed.id, utc(11, 9))
    guide_links.record_first_open(request.id, printed.id)
    guide_links.record_first_open(request.id, printed.id)
    item = db.session.scalars(
        sa.select(GuideFulfilment).where(GuideFulfilment.submission_id == request.id)
    ).one()
    mark_printed(item.id, Actor.user(ann.id), utc(12, 15))
    mark_shipped(item.id, "1Z999AA10123456784", Actor.user(ann.id), utc(13, 15))
    unread, _ = _guide(utc(10, 17))
    _emailed(unread.id, utc(10, 17, 1))
    outside, _ = _guide(utc(12, 5, 0))
    _emailed(outside.id, utc(12, 5, 1))
    db.session.commit()
    rollups.refresh()
    return {"ann": ann}
