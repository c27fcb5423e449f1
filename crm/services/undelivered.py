"""Emails that could not be delivered: one digest to the managers, and sending them again."""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import OutboxMessage
from crm.models.enums import OutboxKind, OutboxStatus, TimelineKind
from crm.services import events
from crm.services.users import active_manager_ids

# Ids the digest lists by name; beyond this it gives the count only.
DIGEST_LISTED_IDS = 50
_DIGEST_BATCH = 5000


def alert_managers_of_dead_emails(now: datetime) -> int:
    """Queue one digest per active manager for dead rows not yet reported; return their count."""
    candidates = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.dead,
            OutboxMessage.dead_alerted_at.is_(None),
            # A digest that could not be delivered would only raise another digest.
            OutboxMessage.kind != OutboxKind.undelivered_digest,
        )
        .order_by(OutboxMessage.id)
        .limit(_DIGEST_BATCH)
    ).all()
    if not candidates:
        db.session.rollback()
        return 0
    # The conditional UPDATE is the claim: two beat schedulers never report a row twice.
    reported = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates), OutboxMessage.dead_alerted_at.is_(None))
        .values(dead_alerted_at=now)
        .returning(OutboxMessage.id, OutboxMessage.kind)
        .execution_options(synchronize_session=False)
    ).all()
    if not reported:
        db.session.rollback()
        return 0
    ids = sorted(message_id for message_id, _ in reported)
    by_kind = Counter(kind.value for _, kind in reported)
    for manager_id in active_manager_ids():
        db.session.add(
            OutboxMessage(
                kind=OutboxKind.undelivered_digest,
                contact_id=None,
                # Ids and counts only: the managers look the rows up in the CRM.
                payload={
                    "user_id": manager_id,
                    "count": len(ids),
                    "by_kind": dict(sorted(by_kind.items())),
                    "outbox_ids": ids[:DIGEST_LISTED_IDS],
                },
                # Rows requeued and dead again are reported again: the run's time tells them apart.
                dedupe_key=f"undelivered_digest:{ids[0]}-{ids[-1]}@{now.isoformat()}:{manager_id}",
                due_at=now,
            )
        )
    db.session.commit()
    return len(ids)


def requeue(
    now: datetime,
    ids: Iterable[int] = (),
    given_up_since: datetime | None = None,
    include_bounced: bool = False,
) -> list[int]:
    """Send dead rows (bounced ones only when asked) again, under the same Message-ID.

    Selects the given ids and every row given up at or after `given_up_since`; nothing if neither.
    """
    ids = list(ids)
    selectors = []
    if ids:
        selectors.append(OutboxMessage.id.in_(ids))
    if given_up_since is not None:
        selectors.append(OutboxMessage.given_up_at >= given_up_since)
    if not selectors:
        return []
    statuses = [OutboxStatus.dead] + ([OutboxStatus.bounced] if include_bounced else [])
    rows = db.session.execute(
        sa.select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.status,
            OutboxMessage.contact_id,
            OutboxMessage.submission_id,
        ).where(OutboxMessage.status.in_(statuses), sa.or_(*selectors))
    ).all()
    # The Message-ID comes from the row id, so a reset row is the same email, sent again.
    requeued = set(
        db.session.scalars(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]))
            .where(OutboxMessage.status.in_(statuses))
            .values(
                status=OutboxStatus.pending,
                attempts=0,
                due_at=now,
                first_attempt_at=None,
                given_up_at=None,
                dead_alerted_at=None,
                dispatched_at=None,
                last_error=None,
            )
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    for row in rows:
        if row.id in requeued and row.contact_id is not None:
            events.record(
                row.contact_id,
                TimelineKind.email_requeued,
                submission_id=row.submission_id,
                outbox_id=row.id,
                detail={"email": row.kind.value, "was": row.status.value},
                at=now,
            )
    db.session.commit()
    return sorted(requeued)
