"""The contact search as CSV: every match, formula-safe, health fields when ticked, audited."""

import csv
import io
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent
from crm.models.enums import AuditAction, Diagnosis, FormKind, Role, VeteranBranch
from tests.factories import make_contact
from tests.report_pages import FORMULA_CAMPAIGN
from tests.staff import StaffClient, forms_on, signed_in

HEADER = [
    "Contact id",
    "Name",
    "Email",
    "Phone",
    "State",
    "Stage",
    "Form",
    "Source",
    "Medium",
    "Campaign",
    "Created",
]
HEALTH = ["Diagnosis", "Veteran", "Branch of service", "Cancer stage"]


@pytest.fixture
def lopez(app_ctx, config_override):
    """Two Lopezes (one a veteran sent by a hostile campaign) and someone else."""
    # One result per page: the export is every match, not the page on screen.
    config_override(STAFF_PAGE_SIZE=1)
    maria = make_contact(
        FormKind.specialist_match,
        first_name="Maria",
        last_name="Lopez",
        email="maria.lopez@example.com",
        received_at=datetime(2026, 11, 10, 14, 0, tzinfo=UTC),
        attribution={
            "utm_source": "google",
            "utm_medium": "-cpc",
            "utm_campaign": FORMULA_CAMPAIGN,
        },
        is_veteran=True,
        veteran_branch=VeteranBranch.navy,
    )
    mario = make_contact(
        FormKind.guide,
        first_name="Mario",
        last_name="Lopez",
        email="mario@example.com",
        diagnosis=None,
        received_at=datetime(2026, 11, 11, 9, 30, tzinfo=UTC),
    )
    make_contact(first_name="Ann", last_name="Other")
    return maria.id, mario.id


MARIA = [
    "Maria Lopez",
    "maria.lopez@example.com",
    "",
    "MA",
    "New",
    "Specialist match",
    "google",
    "'-cpc",
    "'" + FORMULA_CAMPAIGN,
    "2026-11-10T14:00:00+00:00",
]
MARIO = [
    "Mario Lopez",
    "mario@example.com",
    "",
    "MA",
    "New",
    "Free guide",
    "",
    "",
    "",
    "2026-11-11T09:30:00+00:00",
]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="contacts-')
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def export_form(staff: StaffClient, query: str):
    """The export form on the search page for query, as a browser would send it by default."""
    url = f"/contacts?{urlencode({'q': query})}"
    html = staff.get(url).get_data(as_text=True)
    forms = [form for form in forms_on(url, html) if form.action == "/contacts/export.csv"]
    return forms[0] if forms else None


def export(staff: StaffClient, query: str, **ticked):
    form = export_form(staff, query)
    return staff.get(f"{form.action}?{urlencode({**form.values, **ticked})}")


def exports() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == AuditAction.contacts_exported)
        )
    )


def test_the_export_holds_every_match_in_search_order_without_health_fields(app_ctx, lopez):
    maria, mario = lopez
    rows = read_csv(export(signed_in(app_ctx, Role.manager), "lopez"))

    assert rows == [HEADER, [str(maria), *MARIA], [str(mario), *MARIO]]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_health_fields_come_only_when_ticked(app_ctx, lopez):
    maria, mario = lopez
    rows = read_csv(export(signed_in(app_ctx, Role.manager), "lopez", health="y"))

    assert rows == [
        HEADER + HEALTH,
        [str(maria), *MARIA, "Pleural mesothelioma", "yes", "Navy", "Stage 2"],
        [str(mario), *MARIO, "", "no", "", ""],
    ]


def test_every_export_is_audited_with_who_how_and_how_many(app_ctx, lopez):
    maria, mario = lopez
    manager = signed_in(app_ctx, Role.manager)
    export(manager, "lopez", health="y").get_data()

    (event,) = exports()
    assert event.actor_user_id is not None
    assert event.detail == {
        "list": "contact_search",
        "kind": "name",
        "health_fields": True,
        "rows": 2,
        "cut": False,
        "contact_ids": [maria, mario],
    }


def test_an_export_past_the_cap_is_cut_and_says_so(app_ctx, lopez, config_override):
    config_override(EXPORT_MAX_ROWS=1)
    maria, _ = lopez
    rows = read_csv(export(signed_in(app_ctx, Role.manager), "lopez"))

    assert rows == [
        HEADER,
        [str(maria), *MARIA],
        ["Cut at 1 contacts: narrow the search to export the rest."],
    ]
    assert (exports()[0].detail["rows"], exports()[0].detail["cut"]) == (1, True)


def test_no_search_no_export(app_ctx, lopez):
    manager = signed_in(app_ctx, Role.manager)

    response = manager.get("/contacts/export.csv?q=")

    assert response.status_code == 302 and response.headers["Location"] == "/contacts?q="
    assert exports() == []


def test_only_managers_may_export_contacts(app_ctx, lopez):
    assert export_form(signed_in(app_ctx, Role.advocate), "lopez") is None
    for role in (Role.advocate, Role.admin):
        response = signed_in(app_ctx, role).get("/contacts/export.csv?q=lopez&health=y")
        assert response.status_code == 403
    assert exports() == []


def test_a_contact_without_a_diagnosis_or_a_campaign_exports_empty_cells(app_ctx):
    contact = make_contact(first_name="Zed", last_name="Quinn", diagnosis=Diagnosis.not_sure)
    rows = read_csv(export(signed_in(app_ctx, Role.manager), "zed quinn", health="y"))

    assert rows[1][0] == str(contact.id) and rows[1][-4:] == ["Not sure yet", "no", "", ""]
