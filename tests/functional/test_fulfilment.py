"""A requested printed guide moves to print, printed, shipped with tracking, in that order."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import GuideFulfilment
from crm.models.enums import FulfilmentStatus
from crm.services.actors import SYSTEM
from crm.services.fulfilment import FulfilmentError, mark_printed, mark_shipped
from tests.forms import GUIDE

MAILING = {
    "printed_guide": "y",
    "address_line1": "12 Harbor Rd",
    "city": "Boston",
    "address_state": "MA",
    "address_zip": "02110",
}


def requested_item(forms) -> int:
    assert forms.submit("/guide", {**GUIDE, **MAILING}).status_code == 303
    return db.session.scalar(sa.select(GuideFulfilment.id))


def test_printed_guide_is_printed_then_shipped_with_tracking(forms, app_ctx):
    item_id = requested_item(forms)

    mark_printed(item_id, SYSTEM)
    item = mark_shipped(item_id, " 1Z999AA1 0123456784 ", SYSTEM)

    assert item.status == FulfilmentStatus.shipped
    assert item.tracking_number == "1Z999AA1 0123456784"
    assert item.mailing_address["city"] == "Boston"


def test_a_guide_cannot_ship_before_it_is_printed_or_without_tracking(forms, app_ctx):
    item_id = requested_item(forms)

    with pytest.raises(FulfilmentError, match="cannot be marked shipped"):
        mark_shipped(item_id, "1Z999", SYSTEM)
    db.session.rollback()
    mark_printed(item_id, SYSTEM)
    with pytest.raises(FulfilmentError, match="tracking number"):
        mark_shipped(item_id, "   ", SYSTEM)
    with pytest.raises(FulfilmentError, match="cannot be marked printed"):
        mark_printed(item_id, SYSTEM)
