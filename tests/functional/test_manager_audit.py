"""The audit log: managers browse and filter it; nobody, and no route, can change it."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent
from crm.models.enums import AuditAction, Role
from crm.services import audit
from tests.factories import make_user
from tests.staff import StaffClient

MANAGER_PAGES = ["/manager/spam", "/manager/fulfilment", "/manager/audit"]
MANAGER_ACTIONS = [
    "/manager/spam/1/release",
    "/manager/spam/1/delete",
    "/manager/fulfilment/printed",
    "/manager/fulfilment/1/shipped",
    "/manager/fulfilment/labels",
]


@pytest.fixture
def manager(app, app_ctx) -> StaffClient:
    user = make_user(Role.manager, name="Mona Manager")
    staff = StaffClient(app.test_client())
    staff.sign_in(user.email)
    staff.user_id = user.id
    return staff


def rows_on(page: str) -> int:
    return page.count("<tr>") - 1 if "<tbody>" in page else 0


def at(day: int) -> datetime:
    return datetime(2026, 3, day, 12, 0, tzinfo=UTC)


@pytest.fixture
def history(app_ctx) -> dict[str, int]:
    """An advocate's March: a contact viewed on the 2nd, a stage changed on the 5th."""
    advocate = make_user(Role.advocate, name="Ada Vocate")
    for action, contact_id, day in (
        (AuditAction.contact_viewed, 41, 2),
        (AuditAction.stage_changed, 41, 5),
        (AuditAction.contact_viewed, 42, 5),
    ):
        db.session.add(
            AuditEvent(
                action=action,
                actor_user_id=advocate.id,
                contact_id=contact_id,
                ip_address="198.51.100.7",
                detail={},
                created_at=at(day),
            )
        )
    db.session.commit()
    return {"advocate": advocate.id}


def test_the_log_shows_newest_first_who_what_which_contact_when_and_from_where(manager, history):
    page = manager.get("/manager/audit").get_data(as_text=True)

    assert page.index("Signed in") < page.index("Changed a stage") < page.index("2026-03-02")
    for text in (
        "Mona Manager",
        "Ada Vocate",
        "Contact 41",
        "198.51.100.7",
        "2026-03-05 12:00 UTC",
    ):
        assert text in page


def test_filters_narrow_by_user_action_contact_and_utc_dates(manager, history):
    advocate = history["advocate"]

    def shown(**filters) -> int:
        query = "&".join(f"{name}={value}" for name, value in filters.items())
        return rows_on(manager.get(f"/manager/audit?{query}").get_data(as_text=True))

    assert shown(user=advocate) == 3
    assert shown(user=advocate, action="contact_viewed") == 2
    assert shown(contact_id=41) == 2
    assert shown(user=advocate, since="2026-03-03") == 2
    assert shown(user=advocate, until="2026-03-02") == 1
    assert shown(since="2026-03-05", until="2026-03-05", contact_id=42) == 1
    assert shown(action="sign_in", user=manager.user_id) == 1


def test_a_filter_that_makes_no_sense_is_explained_not_a_crash(manager, history):
    page = manager.get("/manager/audit?contact_id=abc&since=2026-03-09&until=2026-03-01")

    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Not a valid integer value." in text
    assert "The end date comes before the start date." in text
    assert "No audit entries match." in text


def test_older_pages_keep_the_filters(manager, history, config_override):
    config_override(STAFF_PAGE_SIZE=2)

    first = manager.get(f"/manager/audit?user={history['advocate']}").get_data(as_text=True)
    older_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = manager.get(older_link.replace("&amp;", "&")).get_data(as_text=True)

    assert f"user={history['advocate']}" in older_link
    assert rows_on(first) == 2 and rows_on(second) == 1 and "2026-03-02" in second


def test_viewing_the_log_is_audited_with_the_filters_and_ids_shown(manager, history):
    manager.get("/manager/audit?action=stage_changed&contact_id=41")

    db.session.rollback()
    viewed = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.audit_viewed)
    )
    shown = db.session.scalar(
        sa.select(AuditEvent.id).where(AuditEvent.action == AuditAction.stage_changed)
    )
    assert viewed.actor_user_id == manager.user_id
    assert viewed.detail == {
        "filters": {"action": "stage_changed", "contact_id": "41"},
        "audit_ids": [shown],
    }


def test_no_route_can_change_or_remove_an_audit_row(app):
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET ip_address = '10.0.0.1'", "DELETE FROM audit_events"],
)
def test_the_database_refuses_to_change_or_remove_audit_rows(app_ctx, statement):
    audit.record(AuditAction.sign_in, None, "192.0.2.1")
    db.session.commit()

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.scalars(sa.select(AuditEvent.ip_address)).all() == ["192.0.2.1"]


@pytest.mark.parametrize("role", [Role.advocate, Role.admin])
def test_other_staff_get_403_on_every_manager_page_and_action(app, app_ctx, role):
    staff = StaffClient(app.test_client())
    staff.sign_in(make_user(role).email)
    token = staff.csrf_token()

    statuses = {url: staff.get(url).status_code for url in MANAGER_PAGES}
    statuses |= {
        url: staff.post(url, data={"csrf_token": token}).status_code for url in MANAGER_ACTIONS
    }

    assert set(statuses.values()) == {403}, statuses


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in MANAGER_PAGES:
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith(f"/login?next={url}")


def test_ids_too_big_for_the_database_are_unknown_rows_not_server_errors(manager):
    huge = "9" * 20
    token = manager.csrf_token()

    pages = [f"{url}?before_id={huge}" for url in MANAGER_PAGES]
    assert {manager.get(url).status_code for url in pages} == {200}
    # A contact id no row can have is a filter that makes no sense: said, with a 400.
    assert manager.get(f"/manager/audit?contact_id={huge}").status_code == 400
    actions = {
        url.replace("/1/", f"/{huge}/"): manager.post(
            url.replace("/1/", f"/{huge}/"),
            data={"csrf_token": token, "item_id": huge, "tracking_number": "1Z"},
        ).status_code
        for url in MANAGER_ACTIONS
    }
    assert actions == {
        f"/manager/spam/{huge}/release": 404,
        f"/manager/spam/{huge}/delete": 404,
        "/manager/fulfilment/printed": 302,
        f"/manager/fulfilment/{huge}/shipped": 404,
        "/manager/fulfilment/labels": 302,
    }
