"""Printed guides: to print, printed, shipped with a tracking number."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from crm.extensions import db
from crm.models import GuideFulfilment, Submission, utcnow
from crm.models.enums import FulfilmentStatus, TimelineKind
from crm.services import events
from crm.services.actors import Actor

_NEXT = {
    FulfilmentStatus.to_print: FulfilmentStatus.printed,
    FulfilmentStatus.printed: FulfilmentStatus.shipped,
}


class FulfilmentError(ValueError):
    """A move the fulfilment workflow does not allow; the message is for staff."""


@dataclass(frozen=True)
class MailingItem:
    """One printed guide to mail: who it goes to, as that submission gave it (DESIGN rule 7)."""

    id: int
    contact_id: int
    status: FulfilmentStatus
    name: str
    address: dict[str, Any]
    tracking_number: str | None
    created_at: datetime
    printed_at: datetime | None
    shipped_at: datetime | None

    @property
    def address_lines(self) -> list[str]:
        """The lines of the mailing label, name first."""
        place = f"{self.address.get('city') or ''}, {self.address.get('state') or ''}"
        place = f"{place} {self.address.get('zip') or ''}".strip(" ,")
        lines = [self.name, self.address.get("line1"), self.address.get("line2"), place]
        return [line for line in lines if line]


def listing(
    status: FulfilmentStatus, *, before_id: int | None = None, limit: int = 25
) -> list[MailingItem]:
    """Printed guides in one status, newest first, one keyset page."""
    query = _items().where(GuideFulfilment.status == status)
    if before_id is not None:
        query = query.where(GuideFulfilment.id < before_id)
    return _mailing_items(query.order_by(GuideFulfilment.id.desc()).limit(limit))


def to_print(item_ids: list[int]) -> list[MailingItem]:
    """The items among these ids still waiting to be printed, oldest first (label order)."""
    query = _items().where(
        GuideFulfilment.id.in_(item_ids), GuideFulfilment.status == FulfilmentStatus.to_print
    )
    return _mailing_items(query.order_by(GuideFulfilment.id))


def mark_printed(item_id: int, actor: Actor, now: datetime | None = None) -> GuideFulfilment:
    """Record that the guide was printed, with its timeline event (flushed)."""
    now = now or utcnow()
    item = _advance(item_id, FulfilmentStatus.printed)
    item.printed_at = now
    _event(item, TimelineKind.guide_printed, actor, now)
    return item


def mark_many_printed(
    item_ids: list[int], actor: Actor, now: datetime | None = None
) -> list[GuideFulfilment]:
    """Mark each of these printed, all or none (the caller's transaction rolls back on error)."""
    item_ids = sorted(set(item_ids))
    if not item_ids:
        raise FulfilmentError("Tick at least one printed guide first.")
    # Every item is checked before any changes, so a refusal leaves nothing half done.
    statuses = dict(
        db.session.execute(
            sa.select(GuideFulfilment.id, GuideFulfilment.status)
            .where(GuideFulfilment.id.in_(item_ids))
            .with_for_update()
        ).all()
    )
    if len(statuses) != len(item_ids):
        raise FulfilmentError("No such printed guide request.")
    if any(status != FulfilmentStatus.to_print for status in statuses.values()):
        raise FulfilmentError("Only guides still to print can be marked printed.")
    now = now or utcnow()
    return [mark_printed(item_id, actor, now) for item_id in item_ids]


def mark_shipped(
    item_id: int, tracking_number: str, actor: Actor, now: datetime | None = None
) -> GuideFulfilment:
    """Record the shipment with its tracking number and its timeline event (flushed)."""
    now = now or utcnow()
    tracking_number = " ".join((tracking_number or "").split())
    if not tracking_number:
        raise FulfilmentError("A shipped guide needs its tracking number.")
    if len(tracking_number) > 60:
        raise FulfilmentError("That tracking number is too long (60 characters at most).")
    item = _advance(item_id, FulfilmentStatus.shipped)
    item.tracking_number = tracking_number
    item.shipped_at = now
    detail = {"fulfilment_id": item.id, "tracking_number": tracking_number}
    _event(item, TimelineKind.guide_shipped, actor, now, detail)
    return item


def _advance(item_id: int, to: FulfilmentStatus) -> GuideFulfilment:
    item = db.session.get(GuideFulfilment, item_id, with_for_update=True)
    if item is None:
        raise FulfilmentError("No such printed guide request.")
    if _NEXT.get(item.status) != to:
        raise FulfilmentError(
            f"A guide that is {item.status.label.lower()} cannot be marked {to.label.lower()}."
        )
    item.status = to
    return item


def _event(item, kind: TimelineKind, actor: Actor, now: datetime, detail=None) -> None:
    events.record(
        item.contact_id,
        kind,
        actor,
        submission_id=item.submission_id,
        detail=detail or {"fulfilment_id": item.id},
        at=now,
    )


def _items() -> sa.Select:
    return sa.select(GuideFulfilment, Submission.fields).join(
        Submission, Submission.id == GuideFulfilment.submission_id
    )


def _mailing_items(query: sa.Select) -> list[MailingItem]:
    return [
        MailingItem(
            id=item.id,
            contact_id=item.contact_id,
            status=item.status,
            name=" ".join(filter(None, (fields.get("first_name"), fields.get("last_name")))),
            address=item.mailing_address or {},
            tracking_number=item.tracking_number,
            created_at=item.created_at,
            printed_at=item.printed_at,
            shipped_at=item.shipped_at,
        )
        for item, fields in db.session.execute(query)
    ]
