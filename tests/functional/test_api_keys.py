"""The JSON API's credential: API keys created, listed and revoked by an operator."""

import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import ApiKey, ConsentRecord, Contact, OutboxMessage, Submission, SuspectedSpam
from crm.services.api_keys import create_api_key, revoke_api_key
from tests.functional.test_api import API_BODIES, count

KEY_SHAPE = re.compile(r"crm_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def submit(client, key: str | None, body=None, slug: str = "callback", **headers):
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return client.post(
        f"/api/v1/submissions/{slug}", json=body or API_BODIES[slug], headers=headers
    )


def prefix_of(key: str) -> str:
    return key[: len("crm_0123abcd")]


def secret_of(key: str) -> str:
    return key[len("crm_0123abcd_") :]


def new_key(name: str) -> str:
    return create_api_key(name)[1]


def flask_crm(app, *args: str):
    result = app.test_cli_runner().invoke(args=["crm", "api-key", *args])
    return result


def stored_nothing() -> bool:
    return (count(Contact), count(Submission), count(SuspectedSpam), count(OutboxMessage)) == (
        0,
        0,
        0,
        0,
    )


def assert_refused_as_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.get_json()["error"] == "Unauthorized"
    assert "Authorization" in response.get_json()["errors"]


def test_a_submit_without_an_api_key_answers_401_and_stores_nothing(client, app_ctx):
    response = submit(client, None)

    assert_refused_as_unauthorized(response)
    assert 'error="invalid_token"' not in response.headers["WWW-Authenticate"]
    assert stored_nothing()


def test_even_a_honeypot_submit_without_a_key_is_refused_before_it_is_looked_at(client, app_ctx):
    body = {**API_BODIES["guide"], "website": "http://cheap-pills.example"}

    assert_refused_as_unauthorized(submit(client, None, body, slug="guide"))
    assert stored_nothing()


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer crm_0123abcd_" + "A" * 43,  # the right shape, no such key
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNzd29yZA==",
        "Bearer",
        "",
    ],
)
def test_an_unknown_or_malformed_key_answers_401_and_stores_nothing(authorization, client, app_ctx):
    new_key("marketing-site")

    response = client.post(
        "/api/v1/submissions/callback",
        json=API_BODIES["callback"],
        headers={"Authorization": authorization},
    )

    assert_refused_as_unauthorized(response)
    assert stored_nothing()


def test_a_revoked_key_answers_401_and_stores_nothing(client, app_ctx):
    api_key, key = create_api_key("marketing-site")
    assert submit(client, key).status_code == 201
    revoke_api_key(api_key.prefix)

    response = submit(client, key, {**API_BODIES["callback"], "email": "other@example.org"})

    assert_refused_as_unauthorized(response)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert count(Submission) == 1


def test_the_scheme_name_is_case_insensitive(client, app_ctx):
    key = new_key("marketing-site")

    response = client.post(
        "/api/v1/submissions/callback",
        json=API_BODIES["callback"],
        headers={"Authorization": f"bearer {key}"},
    )

    assert response.status_code == 201


def test_two_clients_using_the_same_idempotency_key_get_two_submissions(client, app_ctx):
    marketing, partner = new_key("marketing-site"), new_key("partner-clinic")
    other_person = {**API_BODIES["callback"], "phone": "773-555-0111", "email": "x@example.org"}

    first = submit(client, marketing, **{"Idempotency-Key": "lead-1"})
    second = submit(client, partner, other_person, **{"Idempotency-Key": "lead-1"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] != second.get_json()["id"]
    assert count(Submission) == 2 and count(Contact) == 2


def test_the_same_key_and_body_again_answers_200_with_the_stored_id(client, app_ctx):
    key = new_key("marketing-site")

    first = submit(client, key, **{"Idempotency-Key": "lead-1"})
    second = submit(client, key, **{"Idempotency-Key": "lead-1"})

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["id"] == first.get_json()["id"]
    assert count(Submission) == 1


def test_the_same_idempotency_key_with_another_body_answers_409_and_stores_nothing_new(
    client, app_ctx
):
    key = new_key("marketing-site")
    first = submit(client, key, **{"Idempotency-Key": "lead-1"})
    emails = count(OutboxMessage)

    changed = {**API_BODIES["callback"], "best_time": "morning"}
    response = submit(client, key, changed, **{"Idempotency-Key": "lead-1"})

    assert (first.status_code, response.status_code) == (201, 409)
    answer = response.get_json()
    assert answer["error"] == "Conflict"
    assert "Idempotency-Key" in answer["errors"]
    assert first.get_json()["id"] not in str(answer)
    assert count(Submission) == 1 and count(OutboxMessage) == emails
    stored = db.session.scalar(sa.select(Submission))
    assert stored.fields["best_time"] == "afternoon"


def test_cli_create_prints_the_key_alone_on_its_last_line_and_that_key_works(app, client, app_ctx):
    result = flask_crm(app, "create", "--name", "marketing-site")

    assert result.exit_code == 0, result.output
    key = result.output.splitlines()[-1]
    assert KEY_SHAPE.fullmatch(key)
    assert result.stdout.strip() == key  # `KEY=$(flask crm api-key create ...)` works too
    assert submit(client, key).status_code == 201


def test_only_a_hash_of_the_key_is_stored(app_ctx):
    api_key, key = create_api_key("marketing-site")

    row = db.session.execute(sa.select(ApiKey.__table__)).one()

    assert key not in str(tuple(row))
    assert secret_of(key) not in str(tuple(row))
    assert api_key.prefix == prefix_of(key)


def test_cli_list_shows_each_client_and_its_state_but_never_a_key(app, client, app_ctx):
    marketing, partner = new_key("marketing-site"), new_key("partner-clinic")
    assert submit(client, marketing).status_code == 201
    revoke_api_key(prefix_of(partner))

    result = flask_crm(app, "list")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    marketing_line = next(line for line in lines if "marketing-site" in line)
    partner_line = next(line for line in lines if "partner-clinic" in line)
    assert prefix_of(marketing) in marketing_line and "active" in marketing_line
    assert "never" not in marketing_line  # it has been used
    assert "revoked" in partner_line
    for key in (marketing, partner):
        assert secret_of(key) not in result.output


@pytest.mark.parametrize("by", ["prefix", "id"])
def test_cli_revoke_by_prefix_or_id_makes_the_key_answer_401(by, app, client, app_ctx):
    api_key, key = create_api_key("marketing-site")
    assert submit(client, key).status_code == 201
    name = api_key.prefix if by == "prefix" else str(api_key.id)

    result = flask_crm(app, "revoke", name)

    assert result.exit_code == 0, result.output
    assert "Revoked" in result.output
    assert_refused_as_unauthorized(
        submit(client, key, {**API_BODIES["callback"], "email": "other@example.org"})
    )


def test_cli_revoke_of_an_unknown_key_fails_and_leaves_the_others_alone(app, client, app_ctx):
    key = new_key("marketing-site")

    result = flask_crm(app, "revoke", "crm_ffffffff")

    assert result.exit_code != 0
    assert "No API key" in result.output
    assert submit(client, key).status_code == 201


def test_cli_create_refuses_an_empty_name(app, app_ctx):
    result = flask_crm(app, "create", "--name", "  ")

    assert result.exit_code != 0
    assert count(ApiKey) == 0


def test_last_used_is_recorded_without_a_write_on_every_call(client, app_ctx):
    api_key, key = create_api_key("marketing-site")
    assert api_key.last_used_at is None

    assert submit(client, key).status_code == 201
    first_use = db.session.scalar(sa.select(ApiKey.last_used_at))
    other = {**API_BODIES["callback"], "email": "other@example.org", "phone": "773-555-0111"}
    assert submit(client, key, other).status_code == 201

    assert first_use is not None
    assert db.session.scalar(sa.select(ApiKey.last_used_at)) == first_use


def test_the_openapi_document_is_public_and_describes_the_bearer_scheme(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["bearer"].items()
    for operation in document["paths"].values():
        assert operation["post"]["security"] == [{"bearer": []}]
        assert {"401", "409"} <= set(operation["post"]["responses"])


def test_browsers_get_no_cors_allowance_to_call_the_api(api_client, app_ctx):
    origin = "https://www.example-advocacy.org"
    preflight = api_client.options(
        "/api/v1/submissions/callback",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    response = submit(api_client, None, Origin=origin)

    assert response.status_code == 201  # the server-to-server call itself works
    for answer in (preflight, response):
        assert "Access-Control-Allow-Origin" not in answer.headers


def guide_body(index: int, **extra) -> dict:
    return {
        "first_name": "Maria",
        "last_name": "Lopez",
        "email": f"visitor{index}@example.org",
        "zip": "02110",
        "interests": ["treatment"],
        "consent_email": True,
        **extra,
    }


def test_api_calls_count_against_their_key_not_the_servers_one_address(
    api_client, app_ctx, config_override
):
    config_override(SUBMIT_LIMIT_PER_IP="2/hour", SUBMIT_LIMIT_PER_API_KEY="4/hour")

    statuses = [
        api_client.post("/api/v1/submissions/guide", json=guide_body(index)).status_code
        for index in range(5)
    ]

    assert statuses == [201, 201, 201, 201, 429]
    refused = api_client.post("/api/v1/submissions/guide", json=guide_body(9))
    assert refused.headers["Retry-After"].isdigit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 4


def test_a_forwarded_visitor_ip_is_recorded_and_limited_per_visitor(
    api_client, app_ctx, config_override
):
    config_override(SUBMIT_LIMIT_PER_IP="1/hour")
    first = guide_body(1, visitor_ip="198.51.100.7")
    second = guide_body(2, visitor_ip="198.51.100.7")
    other = guide_body(3, visitor_ip="2001:db8::1")
    forged = guide_body(4, visitor_ip="not an address")

    statuses = [
        api_client.post("/api/v1/submissions/guide", json=body).status_code
        for body in (first, second, other, forged)
    ]

    assert statuses == [201, 429, 201, 201]
    addresses = set(db.session.scalars(sa.select(ConsentRecord.ip_address)))
    assert addresses == {"198.51.100.7", "2001:db8::1", "127.0.0.1"}
