"""The staff search page: the form an advocate types into, its pages, who may open it, the trail."""

import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent
from crm.models.enums import AuditAction, FormKind, Role
from tests.factories import make_contact, make_user
from tests.staff import StaffClient, forms_on


@pytest.fixture
def advocate(app_ctx) -> StaffClient:
    email = make_user(Role.advocate).email
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(email)
    return staff


def search(staff: StaffClient, query: str):
    """Type into the search box of the Contacts page and send it, as a browser does."""
    page = staff.get("/contacts")
    forms = forms_on("/contacts", page.get_data(as_text=True))
    (form,) = [form for form in forms if form.method == "get" and "q" in form.values]
    return staff.get(form.action, query_string={**form.values, "q": query})


def result_links(response) -> list[int]:
    return [int(i) for i in re.findall(r'href="/contacts/(\d+)"', response.get_data(as_text=True))]


def next_page_url(response) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', response.get_data(as_text=True))
    return found.group(1).replace("&amp;", "&") if found else None


def search_audits() -> list[dict]:
    db.session.rollback()
    rows = sa.select(AuditEvent.detail).where(AuditEvent.action == AuditAction.search)
    return list(db.session.scalars(rows.order_by(AuditEvent.id)))


def test_an_advocate_finds_a_contact_by_name_email_or_phone_through_the_form(advocate):
    maria = make_contact(
        FormKind.callback,
        first_name="Maria",
        last_name="Lopez",
        email="maria.lopez@example.com",
        phone="+16175550160",
    )
    make_contact(first_name="James", last_name="Obrien")

    for query in ("maria lopez", "LOPEZ", "maria.lopez@example.com", "(617) 555-0160", "0160"):
        response = search(advocate, query)
        assert response.status_code == 200
        assert result_links(response) == [maria.id], query
    assert "maria.lopez@example.com" in response.get_data(as_text=True)


def test_a_result_opens_that_contacts_page(advocate):
    maria = make_contact(first_name="Maria", last_name="Lopez", email="maria.lopez@example.com")

    (link,) = re.findall(
        r'href="(/contacts/\d+)"', search(advocate, "lopez").get_data(as_text=True)
    )
    page = advocate.get(link)

    assert page.status_code == 200
    assert "maria.lopez@example.com" in page.get_data(as_text=True)
    assert link == f"/contacts/{maria.id}"


def test_each_search_is_audited_with_its_kind_and_results_never_with_what_was_typed(advocate):
    maria = make_contact(first_name="Maria", last_name="Lopez", email="maria.lopez@example.com")

    search(advocate, "maria lopez")
    search(advocate, "maria.lopez@")
    search(advocate, "nobody here")

    audits = search_audits()
    assert audits == [
        {"kind": "name", "result_ids": [maria.id]},
        {"kind": "email", "result_ids": [maria.id]},
        {"kind": "name", "result_ids": []},
    ]
    assert not any("maria" in str(detail) or "nobody" in str(detail) for detail in audits)


def test_a_too_short_query_shows_what_to_type_and_searches_nothing(advocate):
    make_contact(first_name="Maria", last_name="Lopez")

    response = search(advocate, "m")

    assert response.status_code == 200
    assert "Type at least 2 letters of a name." in response.get_data(as_text=True)
    assert result_links(response) == []
    assert search_audits() == []


def test_next_page_links_walk_every_match_once(advocate):
    ids = [make_contact(first_name="Ann", last_name="Smith").id for _ in range(27)]

    first = search(advocate, "ann smith")
    second = advocate.get(next_page_url(first))

    assert result_links(first) == ids[::-1][:25]
    assert result_links(second) == ids[::-1][25:]
    assert next_page_url(second) is None


def test_names_are_shown_as_text_never_as_markup(advocate):
    make_contact(first_name="<b>Eve", last_name="Smith</b>")

    body = search(advocate, "<b>eve").get_data(as_text=True)

    assert "&lt;b&gt;Eve Smith&lt;/b&gt;" in body
    assert "<b>Eve" not in body


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/contacts?q=maria")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/contacts")


def test_an_admin_may_not_search_contacts(app_ctx):
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(make_user(Role.admin).email)

    assert staff.get("/contacts?q=maria").status_code == 403
    assert search_audits() == []
