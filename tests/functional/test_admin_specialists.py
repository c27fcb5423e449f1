"""Admins keep the specialist directory at /admin/specialists, audited; nobody else gets in."""

from html import unescape

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, Specialist
from crm.models.enums import AuditAction, Role, SpecialistKind
from tests.factories import make_user
from tests.specialists import NEAR_BOSTON, make_specialist
from tests.staff import StaffClient

NEW_CENTRE = {
    "name": "Example Mesothelioma Center",
    "kind": "centre",
    "specialties": ["pleural_surgery", "medical_oncology"],
    "organisation": "Example University Hospital",
    "city": "Houston",
    "state": "tx",
    "zip_code": "77030",
    "phone": "(713) 555-0199",
    "email": "",
    "accepts_va": "y",
    "active": "y",
}


@pytest.fixture
def staff(client):
    return StaffClient(client)


def signed_in(staff, role=Role.admin) -> int:
    user = make_user(role)
    user_id, email = user.id, user.email
    staff.sign_in(email)
    return user_id


def directory() -> list[Specialist]:
    db.session.rollback()  # read what the requests committed
    return db.session.scalars(sa.select(Specialist).order_by(Specialist.id)).all()


def audited(action: AuditAction) -> list[AuditEvent]:
    db.session.rollback()
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def test_an_admin_adds_a_specialist_through_the_form(app_ctx, staff):
    signed_in(staff)

    response = staff.submit("/admin/specialists/new", NEW_CENTRE, form_id="specialist-form")

    assert response.status_code == 302
    (added,) = directory()
    assert (added.name, added.kind, added.state, added.zip_code, added.phone) == (
        "Example Mesothelioma Center",
        SpecialistKind.centre,
        "TX",
        "77030",
        "+17135550199",
    )
    assert added.specialties == ["medical_oncology", "pleural_surgery"]
    assert (added.accepts_va, added.active, added.email) == (True, True, None)
    assert [a.detail for a in audited(AuditAction.specialist_created)] == [
        {"specialist_id": added.id}
    ]
    listing = unescape(staff.get("/admin/specialists").get_data(as_text=True))
    assert "Example Mesothelioma Center" in listing and "(713) 555-0199" in listing


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"zip_code": "00000"}, "We could not find this ZIP code."),
        ({"state": "CA"}, "ZIP code 77030 is in TX, not CA."),
        ({"phone": "123"}, "phone number"),
        ({"specialties": []}, "Choose at least one specialty."),
    ],
)
def test_an_unusable_entry_is_refused_with_the_reason(app_ctx, staff, change, error):
    signed_in(staff)

    response = staff.submit(
        "/admin/specialists/new", {**NEW_CENTRE, **change}, form_id="specialist-form"
    )

    assert response.status_code == 422
    assert error in unescape(response.get_data(as_text=True))
    assert directory() == []


def test_an_admin_edits_and_deactivates_a_specialist(app_ctx, staff):
    specialist_id = make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    signed_in(staff)

    staff.submit(
        f"/admin/specialists/{specialist_id}",
        {"name": "Dr. Imaginary Nearing-Smith", "accepts_va": "y"},
        form_id="specialist-form",
    )
    staff.submit("/admin/specialists", {}, form_id=f"deactivate-{specialist_id}")

    (specialist,) = directory()
    assert (specialist.name, specialist.accepts_va, specialist.active) == (
        "Dr. Imaginary Nearing-Smith",
        True,
        False,
    )
    assert [a.detail["changed"] for a in audited(AuditAction.specialist_updated)] == [
        ["name", "accepts_va"],
        ["active"],
    ]


@pytest.mark.parametrize("role", [Role.advocate, Role.manager])
def test_only_admins_may_open_the_directory(app_ctx, staff, role):
    specialist_id = make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    signed_in(staff, role)
    token = staff.csrf_token()

    assert staff.get("/admin/specialists").status_code == 403
    assert staff.get("/admin/specialists/new").status_code == 403
    assert staff.get(f"/admin/specialists/{specialist_id}").status_code == 403
    response = staff.post(
        f"/admin/specialists/{specialist_id}/deactivate", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert directory()[0].active is True


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/specialists")

    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
