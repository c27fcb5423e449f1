"""Demo data: referrals advocates have sent and guides that went out, for the reports to show.

Written through the services staff, the relay and the guide link use, at times in the past,
so the referrals and guides report has a history on the embedded defaults.
"""

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, GuideFulfilment, OutboxMessage, Referral, Specialist, Submission
from crm.models.enums import FormKind, FulfilmentStatus, OutboxKind, OutboxStatus, ReferralStatus
from crm.services import guide_links, outbox, referrals
from crm.services.actors import Actor
from crm.services.fulfilment import mark_printed, mark_shipped


def deliver_old_guides(submission_ids: list[int]) -> int:
    """Mark the old guide emails still waiting as sent when they were due, as a worker had."""
    waiting = db.session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.due_at).where(
            OutboxMessage.submission_id.in_(submission_ids),
            OutboxMessage.kind == OutboxKind.guide_email,
            OutboxMessage.status == OutboxStatus.pending,
        )
    ).all()
    for message_id, due_at in waiting:
        outbox.mark_sent(message_id, due_at + timedelta(minutes=2))
    return len(waiting)


def record_demo_referrals_and_guides(advocate_ids: list[int], seed: int, now: datetime) -> int:
    """Referrals with their outcomes, guide links opened, printed guides; returns referrals."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Referral)):
        return 0
    rng = random.Random(seed)
    specialists = list(db.session.scalars(sa.select(Specialist.id).where(Specialist.active)))
    cutoff = now - timedelta(days=1)
    sent = 0
    matched = db.session.execute(
        sa.select(Submission.contact_id, Submission.created_at)
        .join(Contact, Contact.id == Submission.contact_id)
        .where(
            Submission.form == FormKind.specialist_match,
            Submission.created_at < cutoff,
            Contact.merged_into_id.is_(None),
        )
        .order_by(Submission.id)
    ).all()
    for contact_id, created_at in matched:
        if rng.random() < 0.4 or not specialists:
            continue
        at = created_at + timedelta(hours=rng.uniform(2, 20))
        chosen = rng.sample(specialists, k=min(len(specialists), rng.choice([1, 2])))
        try:
            opened = referrals.send_match(contact_id, chosen, rng.choice(advocate_ids), now=at)
        except referrals.ReferralRefused:
            continue  # opted out or no address: an advocate could not have sent it either
        outbox.mark_sent(opened[0].outbox_id, at + timedelta(minutes=2))
        for referral in opened:
            _follow_up(rng, referral, at, now, advocate_ids)
        sent += len(opened)
    veterans = db.session.execute(
        sa.select(Contact.id, Contact.created_at)
        .where(Contact.is_veteran, Contact.created_at < cutoff, Contact.merged_into_id.is_(None))
        .order_by(Contact.id)
    ).all()
    for contact_id, created_at in veterans:
        if rng.random() < 0.5:
            continue
        at = created_at + timedelta(hours=rng.uniform(2, 30))
        handed = referrals.hand_off_va_claims(contact_id, rng.choice(advocate_ids), now=at)
        _follow_up(rng, handed, at, now, advocate_ids)
        sent += 1
    _open_guides(rng, now)
    _mail_printed_guides(rng, now, advocate_ids)
    return sent


def _follow_up(rng, referral: Referral, at: datetime, now: datetime, advocate_ids) -> None:
    """Move a referral on as its outcome became known, never past now."""
    steps = [ReferralStatus.appointment_scheduled, ReferralStatus.seen]
    roll = rng.random()
    path = steps if roll < 0.35 else steps[:1] if roll < 0.65 else []
    if rng.random() < 0.15:
        path.append(ReferralStatus.declined)
    for status in path:
        at += timedelta(days=rng.uniform(1, 6))
        if at >= now:
            return
        referrals.update_status(
            referral.contact_id,
            referral.id,
            status,
            rng.choice(advocate_ids),
            expected_from=referral.status,
            now=at,
        )


def _open_guides(rng, now: datetime) -> None:
    delivered = db.session.execute(
        sa.select(OutboxMessage.submission_id, OutboxMessage.contact_id, OutboxMessage.sent_at)
        .where(
            OutboxMessage.kind == OutboxKind.guide_email,
            OutboxMessage.status == OutboxStatus.sent,
        )
        .order_by(OutboxMessage.id)
    ).all()
    for submission_id, contact_id, sent_at in delivered:
        if rng.random() < 0.55:
            at = min(sent_at + timedelta(hours=rng.uniform(0.1, 48)), now)
            guide_links.record_first_open(submission_id, contact_id, at=at)


def _mail_printed_guides(rng, now: datetime, advocate_ids) -> None:
    waiting = db.session.execute(
        sa.select(GuideFulfilment.id, GuideFulfilment.created_at)
        .where(
            GuideFulfilment.status == FulfilmentStatus.to_print,
            GuideFulfilment.created_at < now - timedelta(days=3),
        )
        .order_by(GuideFulfilment.id)
    ).all()
    for item_id, created_at in waiting:
        if rng.random() < 0.2:
            continue  # still in the tray
        actor = Actor.user(rng.choice(advocate_ids))
        mark_printed(item_id, actor, created_at + timedelta(days=1))
        if rng.random() < 0.85:
            tracking = f"9400 1000 0000 {rng.randint(0, 99_999_999):08d}"
            mark_shipped(item_id, tracking, actor, created_at + timedelta(days=2))
