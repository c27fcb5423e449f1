"""Staff contact search: by name, email or phone, keyset pages, on both backends."""

import itertools
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.sql import Literal

from crm.extensions import db
from crm.models import Contact
from crm.models.contact import search_fold_text
from crm.services.contact_search import SearchKind, interpret, search_contacts

_numbers = itertools.count(1000)


def add_contact(first: str, last: str, email: str | None = None, phone: str | None = None) -> int:
    """A contact row as capture stores it (email lower-cased, phone in E.164); its id."""
    if email is None and phone is None:
        phone = f"+1202555{next(_numbers):04d}"
    contact = Contact(first_name=first, last_name=last, email=email, phone_e164=phone)
    db.session.add(contact)
    db.session.commit()
    return contact.id


def found(query: str, **options) -> list[int]:
    return [row.id for row in search_contacts(query, **options).rows]


def every_page(query: str, limit: int) -> list[list[int]]:
    """Follow next_cursor from the first page to the last."""
    pages, after = [], None
    while True:
        page = search_contacts(query, after=after, limit=limit)
        pages.append([row.id for row in page.rows])
        if page.next_cursor is None:
            return pages
        after = page.next_cursor


@pytest.fixture
def maria(app_ctx) -> int:
    return add_contact("Maria", "Lopez", "maria.lopez@example.com", "+16175550160")


@pytest.fixture
def others(app_ctx) -> list[int]:
    return [
        add_contact("Mariana", "Lopes", "mariana@example.org", "+16175550161"),
        add_contact("James", "O'Brien", "james@example.net", "+13125550187"),
        add_contact("Lopez", "Ann", phone="+14155550999"),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "Maria",
        "Lopez",
        "Maria Lopez",
        "Lopez Maria",
        "Lopez, Maria",
        "maria lo",
        "  MARIA   LOPEZ ",
    ],
)
def test_finds_a_contact_by_first_last_or_full_name_in_any_case(maria, others, query):
    assert maria in found(query)


def test_a_name_search_finds_names_that_start_with_it_and_no_others(maria, others):
    mariana, james, ann_lopez = others

    assert found("maria") == [maria, mariana]
    assert found("lopez") == [ann_lopez, maria]  # "lopez ann" (first name) < "lopez maria"
    assert found("maria lopez") == [maria]
    assert found("o'brien") == [james]
    assert found("lopezz") == []


def test_a_name_search_ignores_accents_and_case(app_ctx):
    jose = add_contact("José", "Álvarez")

    assert found("jose alvarez") == [jose]
    assert found("ÁLVAREZ JOSÉ") == [jose]
    assert search_contacts("alvarez").kind is SearchKind.name


@pytest.mark.parametrize(
    "query",
    ["maria.lopez@example.com", "MARIA.LOPEZ@Example.Com", "maria.lopez@", "maria.lopez@ex"],
)
def test_finds_a_contact_by_email_from_its_start(maria, others, query):
    page = search_contacts(query)

    assert page.kind is SearchKind.email
    assert [row.id for row in page.rows] == [maria]


@pytest.mark.parametrize(
    "query",
    ["(617) 555-0160", "617-555-0160", "617.555.0160", "+1 617 555 0160", "16175550160", "5550160"],
)
def test_finds_a_contact_by_phone_in_any_formatting(maria, others, query):
    page = search_contacts(query)

    assert page.kind is SearchKind.phone
    assert [row.id for row in page.rows] == [maria]


def test_the_last_four_digits_find_every_number_ending_with_them(maria, others):
    shares_last_digits = add_contact("Ray", "Chen", phone="+13125550160")

    assert sorted(found("0160")) == sorted([maria, shares_last_digits])
    assert found("0161") == [others[0]]


def test_a_result_carries_what_the_results_table_shows(maria):
    (row,) = search_contacts("maria lopez").rows

    assert (row.name, row.email, row.phone, row.stage.value) == (
        "Maria Lopez",
        "maria.lopez@example.com",
        "+16175550160",
        "new",
    )
    assert row.created_at.tzinfo is not None


@pytest.mark.parametrize(
    "query", ["", "   ", "m", "12", "(61)", "@example.com", "\x00", "\x00m", "x" * 300]
)
def test_an_empty_or_too_short_query_finds_nothing_and_says_what_to_type(maria, query):
    page = search_contacts(query)

    assert (page.rows, page.next_cursor, page.kind) == ([], None, None)
    assert page.hint


def test_pages_list_every_match_once_in_name_order_newest_first_within_a_name(app_ctx):
    ids = {
        name: [add_contact(*name.split()) for _ in range(copies)]
        for name, copies in [
            ("Ann Smith", 3),
            ("Bob Smith", 1),
            ("Amy Smithers", 2),
            ("Zed Smith", 2),
        ]
    }
    smith_jones = add_contact("Smith", "Jones")  # found by first name: "smith jones"
    add_contact("Ann", "Smyth")
    # Surname first ("smith ann") or first name first ("smith jones"), in one order.
    expected = [
        *ids["Ann Smith"][::-1],
        *ids["Bob Smith"],
        smith_jones,
        *ids["Zed Smith"][::-1],
        *ids["Amy Smithers"][::-1],
    ]

    pages = every_page("smith", limit=3)

    assert pages == [expected[0:3], expected[3:6], expected[6:9]]


def test_a_contact_found_by_first_and_by_last_name_is_listed_once(app_ctx):
    lee_lee = add_contact("Lee", "Lee")
    by_first = add_contact("Lee", "Adams")
    by_last = add_contact("Ann", "Lee")

    pages = every_page("lee", limit=1)

    # "lee adams" < "lee ann" (Ann Lee, surname first) < "lee lee".
    assert pages == [[by_first], [by_last], [lee_lee]]


def test_pages_of_phone_and_email_searches_list_every_match_once(app_ctx):
    same_phone = [add_contact(f"Kid{i}", "Family", phone="+16175550100") for i in range(4)]
    emails = [add_contact("Pat", f"Lee{i}", email=f"pat@host{i}.example") for i in range(4)]

    assert every_page("(617) 555-0100", limit=3) == [same_phone[::-1][:3], same_phone[:1]]
    assert every_page("pat@", limit=3) == [emails[:3], emails[3:]]


def test_search_never_lists_a_contact_merged_into_another(maria):
    duplicate = add_contact("Maria", "Lopez", phone="+16175550160")
    db.session.get(Contact, duplicate).merged_into_id = maria
    db.session.commit()

    for query in ("maria lopez", "lopez", "(617) 555-0160", "0160"):
        assert found(query) == [maria], query


def test_a_cursor_that_no_longer_matches_starts_the_search_again(maria, others):
    james = others[1]

    assert found("maria", after=james) == found("maria")
    assert found("maria", after=987654) == found("maria")


@pytest.mark.postgres_only
def test_python_folds_names_as_the_database_does(app_ctx):
    names = ["José Álvarez", "ÉMILE ZOLA", "Nguyễn Thị", "Zoë O'Brien", "Ångström"]
    connection = db.session.connection()
    in_database = [
        connection.scalar(sa.text("SELECT search_fold(:name)"), {"name": name}) for name in names
    ]

    assert in_database == [search_fold_text(name) for name in names]


@pytest.fixture
def search_plans(app_ctx):
    """Run a search; return PostgreSQL's plans for its statement: as sent, and as prepared.

    psycopg prepares a statement sent five times on one connection, and PostgreSQL may then
    plan it once for any parameters (a generic plan), which sees no parameter's value.
    """
    executed = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "sort_key" in statement and not statement.startswith(("EXPLAIN", "PREPARE")):
            executed.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)

    def plans(query: str, **options) -> list[str]:
        executed.clear()
        search_contacts(query, **options)
        ((statement, parameters),) = executed
        connection = db.session.connection()
        # Forbidden, not impossible: the plan shows a Sort or a Seq Scan only when no index
        # can give the rows in page order, however few rows the table holds.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            connection.exec_driver_sql(f"SET LOCAL {setting} = off")
        as_sent = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars()
        numbers: dict[str, int] = {}
        numbered = re.sub(
            r"%\((\w+)\)s",
            lambda name: f"${numbers.setdefault(name.group(1), len(numbers) + 1)}",
            statement,
        )
        connection.exec_driver_sql(f"PREPARE search_page AS {numbered}")
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        raw = connection.connection.dbapi_connection
        values = ", ".join(Literal(parameters[name]).as_string(raw) for name in numbers)
        prepared = connection.exec_driver_sql(f"EXPLAIN EXECUTE search_page({values})").scalars()
        connection.exec_driver_sql("DEALLOCATE search_page")
        return ["\n".join(as_sent), "\n".join(prepared)]

    yield plans
    sa.event.remove(db.engine, "before_cursor_execute", record)


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        ("maria lopez", {"ix_contacts_search_name", "ix_contacts_search_surname"}),
        ("maria.lopez@example.com", {"ix_contacts_search_email"}),
        ("0160", {"ix_contacts_search_phone"}),
        ("(617) 555-0160", {"ix_contacts_search_phone"}),
    ],
)
def test_each_kind_of_search_reads_its_index_in_page_order(maria, search_plans, query, indexes):
    for plan in [*search_plans(query), *search_plans(query, after=maria)]:
        assert {index for index in indexes if index in plan} == indexes, plan
        nodes = re.findall(r"^\s*(?:->\s+)?([A-Z][\w ]*?)(?: on \w+| using \w+)*\s+\(", plan, re.M)
        assert not {"Sort", "Incremental Sort", "Seq Scan"} & set(nodes), plan


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.text(max_size=40)
    | st.from_regex(
        r"[\d ()+.\-]{0,20}|(maria|lopez)[ .,a-z]{0,8}(@[a-z.]{0,12})?", fullmatch=True
    ),
    after=st.none() | st.integers(min_value=-(2**70), max_value=2**70),
)
def test_any_query_and_cursor_finds_exactly_what_the_rules_say(maria, query, after):
    understood = interpret(query)
    keys = {
        SearchKind.name: ["maria lopez", "lopez maria"],
        SearchKind.email: ["maria.lopez@example.com"],
        SearchKind.phone: ["+16175550160"[::-1]],
    }
    matches = not isinstance(understood, str) and any(
        key.startswith(understood.prefix) for key in keys[understood.kind]
    )

    page = search_contacts(query, after=after)

    # Past Maria's own place there is nobody; any other cursor names nobody and starts over.
    assert [row.id for row in page.rows] == ([maria] if matches and after != maria else [])
    assert (page.hint is None) == (page.kind is not None)
