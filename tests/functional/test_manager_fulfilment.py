"""Printed guides: managers print address labels, mark guides printed, then shipped."""

from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from crm.extensions import db
from crm.models import AuditEvent, GuideFulfilment, TimelineEvent
from crm.models.enums import ActorKind, AuditAction, FulfilmentStatus, Role, TimelineKind
from crm.services.address_labels import render_labels_pdf
from tests.factories import make_contact, make_user
from tests.staff import StaffClient


@pytest.fixture
def manager(app, app_ctx) -> StaffClient:
    user = make_user(Role.manager, name="Mona Manager")
    staff = StaffClient(app.test_client())
    staff.sign_in(user.email)
    staff.user_id = user.id
    return staff


def requested(first_name: str, last_name: str, line1: str, city: str, zip_code: str) -> int:
    """A guide request with a printed copy, sent through capture; returns its fulfilment id."""
    address = {"line1": line1, "line2": None, "city": city, "state": "MA", "zip": zip_code}
    contact = make_contact(
        first_name=first_name,
        last_name=last_name,
        details={"printed_guide": True, "mailing_address": address},
    )
    return db.session.scalar(
        sa.select(GuideFulfilment.id).where(GuideFulfilment.contact_id == contact.id)
    )


@pytest.fixture
def three_requests(app_ctx) -> list[int]:
    return [
        requested("Alma", "Reyes", "12 Harbor Rd", "Boston", "02110"),
        requested("Bruno", "Costa", "9 Elm St Apt 4", "Quincy", "02169"),
        requested("Chloe", "Nakamura", "77 Pine Ave", "Salem", "01970"),
    ]


def status_of(item_id: int) -> FulfilmentStatus:
    db.session.rollback()
    return db.session.get(GuideFulfilment, item_id).status


def audited(action: AuditAction) -> list[AuditEvent]:
    db.session.rollback()
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_guides_to_print_are_listed_with_the_address_their_request_gave(manager, three_requests):
    page = manager.get("/manager/fulfilment").get_data(as_text=True)

    for text in ("Alma Reyes", "12 Harbor Rd", "Boston, MA 02110", "Bruno Costa", "Chloe Nakamura"):
        assert text in page
    (viewed,) = audited(AuditAction.fulfilment_viewed)
    assert viewed.detail == {"status": "to_print", "fulfilment_ids": three_requests[::-1]}
    assert "No printed guides are shipped." in manager.get(
        "/manager/fulfilment?status=shipped"
    ).get_data(as_text=True)
    assert manager.get("/manager/fulfilment?status=lost").status_code == 400


def test_ticked_guides_are_marked_printed_with_a_timeline_event_and_an_audit_row(
    manager, three_requests
):
    alma, _, chloe = three_requests

    response = manager.submit(
        "/manager/fulfilment", {"item_id": [str(alma), str(chloe)]}, form_id="to-print"
    )

    assert response.status_code == 302
    assert [status_of(i) for i in three_requests] == [
        FulfilmentStatus.printed,
        FulfilmentStatus.to_print,
        FulfilmentStatus.printed,
    ]
    events = db.session.scalars(
        sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.guide_printed)
    ).all()
    assert sorted(e.detail["fulfilment_id"] for e in events) == [alma, chloe]
    assert {(e.actor_kind, e.actor_user_id) for e in events} == {(ActorKind.user, manager.user_id)}
    updates = audited(AuditAction.fulfilment_updated)
    assert [u.detail for u in updates] == [
        {"fulfilment_id": alma, "status": "printed"},
        {"fulfilment_id": chloe, "status": "printed"},
    ]
    assert {u.actor_user_id for u in updates} == {manager.user_id}
    printed_tab = manager.get("/manager/fulfilment?status=printed").get_data(as_text=True)
    assert "Alma Reyes" in printed_tab and "Bruno Costa" not in printed_tab


def test_marking_printed_changes_nothing_when_one_ticked_guide_was_printed_already(
    manager, three_requests
):
    alma, bruno, _ = three_requests
    stale_page = manager.form("/manager/fulfilment", form_id="to-print")
    manager.submit("/manager/fulfilment", {"item_id": str(alma)}, form_id="to-print")

    response = manager.post(
        stale_page.action,
        data={**stale_page.values, "item_id": [str(alma), str(bruno)]},
        follow_redirects=True,
    )

    assert "Only guides still to print can be marked printed." in response.get_data(as_text=True)
    assert status_of(bruno) == FulfilmentStatus.to_print
    assert len(audited(AuditAction.fulfilment_updated)) == 1


def test_a_printed_guide_ships_only_with_its_tracking_number(manager, three_requests):
    alma = three_requests[0]
    manager.submit("/manager/fulfilment", {"item_id": str(alma)}, form_id="to-print")
    ship = f"/manager/fulfilment/{alma}/shipped"

    refused = manager.submit(
        "/manager/fulfilment?status=printed",
        {"tracking_number": "   "},
        action=ship,
        follow_redirects=True,
    )
    assert "needs its tracking number" in refused.get_data(as_text=True)
    assert status_of(alma) == FulfilmentStatus.printed

    manager.submit(
        "/manager/fulfilment?status=printed", {"tracking_number": "9400 1000"}, action=ship
    )

    item = db.session.get(GuideFulfilment, alma)
    assert (item.status, item.tracking_number) == (FulfilmentStatus.shipped, "9400 1000")
    (event,) = db.session.scalars(
        sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.guide_shipped)
    ).all()
    assert event.detail == {"fulfilment_id": alma, "tracking_number": "9400 1000"}
    assert event.actor_user_id == manager.user_id
    assert audited(AuditAction.fulfilment_updated)[-1].detail == {
        "fulfilment_id": alma,
        "status": "shipped",
    }
    shipped_tab = manager.get("/manager/fulfilment?status=shipped").get_data(as_text=True)
    assert "tracking 9400 1000" in shipped_tab


def test_the_label_sheet_holds_the_ticked_addresses_and_no_others(manager, three_requests):
    alma, _, chloe = three_requests
    form = manager.form("/manager/fulfilment", form_id="to-print")

    response = manager.post(
        "/manager/fulfilment/labels", data={**form.values, "item_id": [str(alma), str(chloe)]}
    )

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    for line in ("Alma Reyes", "12 Harbor Rd", "Boston, MA 02110", "Chloe Nakamura", "77 Pine Ave"):
        assert line in text
    for line in ("Bruno", "Costa", "9 Elm St", "Quincy", "02169"):
        assert line not in text
    (printed,) = audited(AuditAction.labels_printed)
    assert printed.detail == {"fulfilment_ids": [alma, chloe]}
    # Labels are printed before the guides are: the items wait for "Mark printed".
    assert status_of(alma) == FulfilmentStatus.to_print


def test_a_label_sheet_with_nothing_ticked_sends_the_manager_back(manager, three_requests):
    form = manager.form("/manager/fulfilment", form_id="to-print")

    response = manager.post("/manager/fulfilment/labels", data=form.values, follow_redirects=True)

    assert "Tick at least one guide still to print first." in response.get_data(as_text=True)
    assert audited(AuditAction.labels_printed) == []


def test_thirty_labels_fill_a_sheet_and_the_thirty_first_starts_the_next():
    labels = [[f"Person {n}", f"{n} Long Street", "Boston, MA 02110"] for n in range(31)]

    reader = PdfReader(BytesIO(render_labels_pdf(labels)))

    assert len(reader.pages) == 2
    assert "Person 29" in reader.pages[0].extract_text()
    assert "Person 30" in reader.pages[1].extract_text()
