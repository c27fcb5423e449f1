"""Referrals: the match email naming the specialists an advocate chose, and each one's outcome.

The email is built, like every email to a visitor, from the submission the person sent (their
name and address as they typed them) and the chosen directory entries; the relay delivers it.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, Referral, Specialist, Submission, User, utcnow
from crm.models.enums import (
    CloseOutcome,
    FormKind,
    OutboxKind,
    ReferralKind,
    ReferralStatus,
    TimelineKind,
)
from crm.services import events, outbox, suppressions
from crm.services.actors import Actor
from crm.services.guide_resend import email_revoked

# Forward only; a person may decline at any point before the end.
TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.sent: frozenset({ReferralStatus.appointment_scheduled, ReferralStatus.declined}),
    ReferralStatus.appointment_scheduled: frozenset({ReferralStatus.seen, ReferralStatus.declined}),
    ReferralStatus.seen: frozenset({ReferralStatus.declined}),
    ReferralStatus.declined: frozenset(),
}
# The most specialists one email names: a short list a person can act on.
MAX_PER_EMAIL = 5
_NEVER_EMAIL = (CloseOutcome.do_not_contact, CloseOutcome.deceased)


class ReferralRefused(ValueError):
    """The referral cannot be made or moved (opted out, no address, a step not allowed)."""


@dataclass(frozen=True)
class ReferralRow:
    referral: Referral
    specialist: Specialist | None
    contact_name: str
    created_by: str


def allowed_moves(status: ReferralStatus) -> list[ReferralStatus]:
    """The statuses a referral may move to next, in their natural order."""
    return [member for member in ReferralStatus if member in TRANSITIONS[status]]


def match_submission(contact_ids: list[int]) -> Submission | None:
    """The newest specialist-match submission of these records, or None."""
    return db.session.scalar(
        sa.select(Submission)
        .where(
            Submission.contact_id.in_(contact_ids),
            Submission.form == FormKind.specialist_match,
        )
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(1)
    )


def send_match(
    contact_id: int, specialist_ids: list[int], user_id: int, now: datetime | None = None
) -> list[Referral]:
    """Queue one match email naming the chosen specialists and open a referral for each."""
    contact, ids = _contact(contact_id)
    chosen = sorted(set(specialist_ids))
    if not chosen:
        raise ReferralRefused("Choose at least one specialist.")
    if len(chosen) > MAX_PER_EMAIL:
        raise ReferralRefused(f"Choose at most {MAX_PER_EMAIL} specialists for one email.")
    specialists = db.session.scalars(
        sa.select(Specialist).where(Specialist.id.in_(chosen), Specialist.active.is_(True))
    ).all()
    if len(specialists) != len(chosen):
        raise ReferralRefused("A chosen specialist is no longer in the directory.")
    submission = match_submission(ids)
    if submission is None:
        raise ReferralRefused("This contact has not asked for a specialist match.")
    _check_emailable(submission, ids)
    now = now or utcnow()
    message = outbox.queue_email(
        OutboxKind.specialist_match,
        contact.id,
        submission.id,
        # One row per advocate's send: several matches for one submission are allowed.
        f"{OutboxKind.specialist_match.value}:{submission.id}:{uuid.uuid4().hex}",
        now,
        payload={"specialist_ids": chosen},
    )
    referrals = [
        Referral(
            contact_id=contact.id,
            specialist_id=specialist_id,
            kind=ReferralKind.specialist,
            status=ReferralStatus.sent,
            created_by_user_id=user_id,
            outbox_id=message.id,
            created_at=now,
            updated_at=now,
        )
        for specialist_id in chosen
    ]
    db.session.add_all(referrals)
    db.session.flush()
    events.record(
        contact.id,
        TimelineKind.referral_sent,
        Actor.user(user_id),
        submission_id=submission.id,
        outbox_id=message.id,
        detail={
            "kind": ReferralKind.specialist.value,
            "referral_ids": [referral.id for referral in referrals],
            "specialist_ids": chosen,
        },
        at=now,
    )
    return referrals


def hand_off_va_claims(contact_id: int, user_id: int, now: datetime | None = None) -> Referral:
    """Open a VA claims hand-off referral for a veteran (no email: the claims team calls)."""
    contact, _ = _contact(contact_id)
    if not contact.is_veteran:
        raise ReferralRefused("Only a veteran can be handed off for a VA claim.")
    now = now or utcnow()
    referral = Referral(
        contact_id=contact.id,
        kind=ReferralKind.va_claims_handoff,
        status=ReferralStatus.sent,
        created_by_user_id=user_id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(referral)
    db.session.flush()
    events.record(
        contact.id,
        TimelineKind.referral_sent,
        Actor.user(user_id),
        detail={"kind": ReferralKind.va_claims_handoff.value, "referral_ids": [referral.id]},
        at=now,
    )
    return referral


def update_status(
    contact_id: int,
    referral_id: int,
    to_status: ReferralStatus,
    user_id: int,
    *,
    expected_from: ReferralStatus,
    now: datetime | None = None,
) -> Referral:
    """Move one of the contact's referrals an allowed step, from the status the advocate saw."""
    _, ids = _contact(contact_id, for_email=False)
    referral = db.session.scalar(
        sa.select(Referral)
        .where(Referral.id == referral_id, Referral.contact_id.in_(ids))
        .with_for_update()
    )
    if referral is None:
        raise ReferralRefused("No such referral for this contact.")
    if referral.status != expected_from:
        raise ReferralRefused(
            f"Someone else moved this referral to {referral.status.label} meanwhile."
        )
    if to_status not in TRANSITIONS[referral.status]:
        raise ReferralRefused(
            f"A referral cannot go from {referral.status.label} to {to_status.label}."
        )
    from_status = referral.status
    now = now or utcnow()
    referral.status = to_status
    referral.updated_at = now
    db.session.flush()
    events.record(
        referral.contact_id,
        TimelineKind.referral_updated,
        Actor.user(user_id),
        detail={"referral_id": referral.id, "from": from_status.value, "to": to_status.value},
        at=now,
    )
    return referral


def for_contacts(contact_ids: list[int]) -> list[ReferralRow]:
    """The referrals of these records, newest first."""
    return _rows(sa.true(), contact_ids=contact_ids, limit=None)


def browse(status: ReferralStatus | None = None, limit: int = 200) -> list[ReferralRow]:
    """Referrals across contacts for managers, newest first, optionally of one status."""
    condition = Referral.status == status if status is not None else sa.true()
    return _rows(condition, contact_ids=None, limit=limit)


def _rows(condition, *, contact_ids, limit) -> list[ReferralRow]:
    query = (
        sa.select(Referral, Specialist, Contact.first_name, Contact.last_name, User.name)
        .join(Contact, Contact.id == Referral.contact_id)
        .join(User, User.id == Referral.created_by_user_id)
        .outerjoin(Specialist, Specialist.id == Referral.specialist_id)
        .where(condition)
        .order_by(Referral.created_at.desc(), Referral.id.desc())
    )
    if contact_ids is not None:
        query = query.where(Referral.contact_id.in_(contact_ids))
    if limit is not None:
        query = query.limit(limit)
    return [
        ReferralRow(referral, specialist, f"{first} {last}".strip(), creator)
        for referral, specialist, first, last, creator in db.session.execute(query)
    ]


def _contact(contact_id: int, for_email: bool = True) -> tuple[Contact, list[int]]:
    contact = db.session.scalar(
        sa.select(Contact).where(Contact.id == contact_id).with_for_update()
    )
    if contact is None or contact.merged_into_id is not None:
        raise ReferralRefused("No such contact.")
    if for_email and contact.close_outcome in _NEVER_EMAIL:
        raise ReferralRefused(f"This contact is closed as {contact.close_outcome.label.lower()}.")
    merged = db.session.scalars(sa.select(Contact.id).where(Contact.merged_into_id == contact.id))
    return contact, [contact.id, *merged]


def _check_emailable(submission: Submission, contact_ids: list[int]) -> None:
    address = (submission.fields or {}).get("email")
    if not address:
        raise ReferralRefused("Their specialist-match request gave no email address.")
    reason = suppressions.suppression_reason(address)
    if reason == "bounced":
        raise ReferralRefused("Their email address refused our mail (bounced); ask for another.")
    if reason:
        raise ReferralRefused("They opted out of our emails; the match email was not sent.")
    if email_revoked(contact_ids):
        raise ReferralRefused("They asked staff not to email them; the match email was not sent.")
