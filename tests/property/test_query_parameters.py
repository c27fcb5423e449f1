"""Any query string on any public or staff GET page: never a 5xx, never an error logged.

Hypothesis draws a page (every GET route without path arguments, found in the URL map, so a
page added later is fuzzed too) and a query string: the parameter names the pages read, and
any other, holding any text, numbers out of range, dates that are not, repeated values.
Staff pages are opened signed in as each role that may open them. Filters a page does not
know answer 400 with a message saying what is wrong, not a silently unfiltered page.
"""

import logging
from datetime import date

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.models.enums import Role
from tests.staff import signed_in

QUERY_FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Server-sent event streams never end by themselves; their parameters have tests of their own.
# The readiness probe answers 503 by design while nothing has run beat's heartbeat.
LEFT_OUT = {"chat.stream", "chats.stream", "ops.readyz"}
# Every name a page reads from its query string (grep request.args and the GET filter forms).
KNOWN_NAMES = [
    "q", "after", "before_id", "status", "start", "end", "by", "form", "source", "medium",
    "campaign", "diagnosis", "is_veteran", "user", "action", "contact_id", "since", "until",
    "now_after", "past_before", "health", "next", "utm_source", "gclid", "lang", "embed",
]  # fmt: skip
any_char = st.characters(exclude_categories=("Cs",))
query_value = st.one_of(
    st.text(any_char, max_size=60),
    st.integers(-(10**20), 10**20).map(str),
    st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["", "0", "-1", "2026-02-30", "9" * 40, "y", "null", "%00", "\x00", "NaN"]),
    st.text(any_char, min_size=1_000, max_size=3_000),
)
query_name = st.sampled_from(KNOWN_NAMES) | st.text(any_char, min_size=1, max_size=20)
query_string = st.lists(st.tuples(query_name, query_value), max_size=6)


def get_pages(app: Flask, role: Role | None) -> list[str]:
    """The GET routes without path arguments this role may open (None: the public ones)."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint in LEFT_OUT:
            continue
        roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        if (role is None and roles in (None, ("anyone",))) or (
            role is not None and roles and role in roles
        ):
            pages.append(rule.rule)
    return sorted(pages)


def server_errors(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("role", [None, Role.advocate, Role.manager, Role.admin])
def test_no_query_string_on_any_get_page_gives_a_server_error(app, app_ctx, caplog, role):
    client = signed_in(app_ctx, role).client if role else app.test_client()
    pages = get_pages(app, role)
    assert len(pages) >= (4 if role is None else 3)

    @QUERY_FUZZ
    @given(page=st.sampled_from(pages), query=query_string)
    def open_page(page, query):
        caplog.clear()
        with caplog.at_level(logging.ERROR), app.app_context():
            response = client.get(page, query_string=query)
        assert response.status_code < 500, (page, query, response.status_code)
        assert server_errors(caplog) == []
        # Still signed in: no query string throws a staff member out.
        assert response.status_code != 302 or "/login" not in response.location

    open_page()


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("/manager/referrals?status=lost", "There is no such status."),
        ("/manager/fulfilment?status=lost", "There is no such status."),
        ("/manager/audit?action=nonsense", "Not a valid choice"),
        ("/manager/audit?user=999999", "Not a valid choice"),
        ("/manager/audit?since=yesterday", "Not a valid date value"),
        ("/manager/?by=nonsense", "Not a valid choice"),
        ("/manager/?form=nonsense", "Not a valid choice"),
        ("/manager/?diagnosis=nonsense", "Not a valid choice"),
        ("/manager/?is_veteran=maybe", "Not a valid choice"),
        ("/manager/speed?start=soon", "Give a date as YYYY-MM-DD."),
        ("/manager/advocates/advocates.csv?end=later", "Give a date as YYYY-MM-DD."),
    ],
)
def test_an_unknown_filter_value_is_a_400_that_says_what_is_wrong(app_ctx, page, message):
    manager = signed_in(app_ctx, Role.manager)

    response = manager.get(page)

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
