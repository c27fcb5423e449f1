"""Printed guides: to print, printed, shipped with a tracking number."""

from datetime import datetime

from crm.extensions import db
from crm.models import GuideFulfilment
from crm.models.enums import FulfilmentStatus

_NEXT = {
    FulfilmentStatus.to_print: FulfilmentStatus.printed,
    FulfilmentStatus.printed: FulfilmentStatus.shipped,
}


class FulfilmentError(ValueError):
    """A move the fulfilment workflow does not allow; the message is for staff."""


def mark_printed(item_id: int, now: datetime) -> GuideFulfilment:
    """Record that the guide was printed and commit."""
    item = _advance(item_id, FulfilmentStatus.printed)
    item.printed_at = now
    db.session.commit()
    return item


def mark_shipped(item_id: int, tracking_number: str, now: datetime) -> GuideFulfilment:
    """Record the shipment with its tracking number and commit."""
    tracking_number = " ".join(tracking_number.split())
    if not tracking_number:
        raise FulfilmentError("A shipped guide needs its tracking number.")
    item = _advance(item_id, FulfilmentStatus.shipped)
    item.tracking_number = tracking_number[:60]
    item.shipped_at = now
    db.session.commit()
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
