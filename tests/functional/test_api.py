"""The JSON submissions API the marketing site posts the same three forms to."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.forms.public import PUBLIC_FORMS
from crm.models import (
    ConsentRecord,
    Contact,
    OutboxMessage,
    Submission,
    SuspectedSpam,
    TimelineEvent,
)
from crm.models.enums import ConsentChannel, FormKind, OutboxKind, TimelineKind
from tests.forms import GUIDE

# Every field of each form filled in, as the marketing site's server would send it.
API_BODIES = {
    "guide": {
        "first_name": "Maria",
        "last_name": "Lopez",
        "email": "Maria.Lopez@Example.com",
        "phone": "(617) 555-0134",
        "zip": "02110",
        "relationship": "spouse",
        "diagnosis": "pleural",
        "interests": ["treatment", "va_benefits"],
        "is_veteran": True,
        "veteran_branch": "navy",
        "consent_email": True,
        "consent_calls": False,
    },
    "callback": {
        "first_name": "James",
        "last_name": "O'Brien",
        "phone": "312-555-0187",
        "email": "james.obrien@example.org",
        "zip": "60601",
        "best_time": "afternoon",
        "message": "My father was just diagnosed.",
        "preferred_language": "es",
        "consent_calls": True,
    },
    "specialist-match": {
        "first_name": "Ana",
        "last_name": "Nguyen",
        "email": "ana.nguyen@example.org",
        "phone": "415-555-0162",
        "zip": "94103",
        "diagnosis": "peritoneal",
        "cancer_stage": "2",
        "current_treatment": "Chemotherapy",
        "consent_email": True,
    },
}


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def post(client, slug: str, body, **headers):
    return client.post(f"/api/v1/submissions/{slug}", json=body, headers=headers)


def test_a_valid_submit_answers_201_with_an_id_and_stores_one_lead(api_client, app_ctx):
    response = post(api_client, "guide", API_BODIES["guide"])

    assert response.status_code == 201
    answer = response.get_json()
    assert answer["form"] == "guide" and answer["status"] == "received"
    submission = db.session.scalar(sa.select(Submission))
    assert answer["id"] == submission.public_id
    assert str(submission.id) != answer["id"]  # the sequential id is never shown outside
    assert (count(Contact), count(Submission)) == (1, 1)
    contact = db.session.scalar(sa.select(Contact))
    assert (contact.email, contact.phone_e164, contact.state) == (
        "maria.lopez@example.com",
        "+16175550134",
        "MA",
    )
    assert submission.fields["interests"] == ["treatment", "va_benefits"]
    consents = {c.channel: c.granted for c in db.session.scalars(sa.select(ConsentRecord))}
    assert consents == {ConsentChannel.email: True, ConsentChannel.calls_texts: False}
    outbox = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [row.kind for row in outbox].count(OutboxKind.guide_email) == 1
    assert {row.submission_id for row in outbox} == {submission.id}


def test_every_form_can_be_submitted_through_the_api(api_client, app_ctx):
    for slug, body in API_BODIES.items():
        assert post(api_client, slug, body).status_code == 201, slug

    forms = {s.form for s in db.session.scalars(sa.select(Submission))}
    assert forms == set(PUBLIC_FORMS)


def test_invalid_fields_answer_422_with_the_error_under_each_field_and_store_nothing(
    api_client, app_ctx
):
    body = {**API_BODIES["guide"], "email": "maria.lopez@", "zip": "99999", "phone": "555"}

    response = post(api_client, "guide", body)

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"email", "zip", "phone"}
    assert "valid email address" in errors["email"][0]
    assert "could not find this ZIP code" in errors["zip"][0]
    assert all(isinstance(messages, list) and messages for messages in errors.values())
    assert (count(Contact), count(Submission), count(OutboxMessage)) == (0, 0, 0)


def test_the_same_idempotency_key_twice_is_one_submission_with_the_same_id(api_client, app_ctx):
    key = {"Idempotency-Key": "site-7f3a9c2e-retry"}

    first = post(api_client, "callback", API_BODIES["callback"], **key)
    planned = count(OutboxMessage)
    second = post(api_client, "callback", API_BODIES["callback"], **key)

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert count(Submission) == 1
    assert planned >= 1 and count(OutboxMessage) == planned  # no second confirmation email
    assert db.session.scalar(sa.select(Contact.submission_count)) == 1


def test_different_idempotency_keys_are_different_submissions(api_client, app_ctx):
    first = post(api_client, "callback", API_BODIES["callback"], **{"Idempotency-Key": "one"})
    second = post(api_client, "callback", API_BODIES["callback"], **{"Idempotency-Key": "two"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] != second.get_json()["id"]
    assert count(Submission) == 2 and count(Contact) == 1


def test_an_unusable_idempotency_key_is_refused_before_anything_is_stored(api_client, app_ctx):
    response = post(
        api_client, "callback", API_BODIES["callback"], **{"Idempotency-Key": "k" * 191}
    )

    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert count(Submission) == 0


def test_a_known_visitor_through_the_api_is_a_reengagement_of_the_same_contact(
    forms, api_client, app_ctx
):
    assert forms.submit("/guide", GUIDE).status_code == 303

    body = {**API_BODIES["callback"], "phone": GUIDE["phone"], "email": GUIDE["email"].upper()}
    assert post(api_client, "callback", body).status_code == 201

    assert count(Contact) == 1
    contact = db.session.scalar(sa.select(Contact))
    assert contact.submission_count == 2
    latest = db.session.scalar(sa.select(Submission).order_by(Submission.id.desc()))
    assert (latest.form, latest.is_reengagement, latest.contact_id) == (
        FormKind.callback,
        True,
        contact.id,
    )
    kinds = set(db.session.scalars(sa.select(TimelineEvent.kind)))
    assert TimelineKind.reengaged in kinds


def test_an_unknown_form_is_not_found_and_lists_the_real_ones(api_client, app_ctx):
    response = post(api_client, "newsletter", API_BODIES["guide"])

    assert response.status_code == 404
    assert response.get_json()["forms"] == ["guide", "callback", "specialist-match"]
    assert count(Submission) == 0


def test_a_body_that_is_not_a_json_object_is_unprocessable(api_client, app_ctx):
    for body in ([API_BODIES["guide"]], "Maria", 42, None, True):
        response = post(api_client, "guide", body)

        assert response.status_code == 422, body
        assert "_body" in response.get_json()["errors"]
    not_json = api_client.post(
        "/api/v1/submissions/guide", data="first_name=Maria", content_type="text/plain"
    )
    assert not_json.status_code == 422
    assert count(Submission) == 0


def test_the_honeypot_answers_201_but_keeps_the_submit_as_spam_only(api_client, app_ctx):
    body = {**API_BODIES["guide"], "website": "http://cheap-pills.example"}

    response = post(api_client, "guide", body)

    assert response.status_code == 201
    assert response.get_json()["id"]
    assert (count(Contact), count(Submission), count(OutboxMessage)) == (0, 0, 0)
    assert db.session.scalar(sa.select(SuspectedSpam.reason)) == "honeypot"


def test_openapi_document_describes_the_three_forms_and_the_idempotency_key(client):
    document = client.get("/api/v1/openapi.json").get_json()

    assert set(document["paths"]) == {
        "/api/v1/submissions/guide",
        "/api/v1/submissions/callback",
        "/api/v1/submissions/specialist-match",
    }
    for operation in document["paths"].values():
        headers = {p["name"] for p in operation["post"]["parameters"] if p["in"] == "header"}
        assert "Idempotency-Key" in headers
        assert {"200", "201", "422"} <= set(operation["post"]["responses"])
    schemas = document["components"]["schemas"]
    assert not {"csrf_token", "form_token", "website"} & set(schemas["guide"]["properties"])


def _schema_for(document: dict, slug: str) -> dict:
    ref = document["paths"][f"/api/v1/submissions/{slug}"]["post"]["requestBody"]["content"]
    name = ref["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return document["components"]["schemas"][name]


@pytest.mark.parametrize("slug", list(API_BODIES))
def test_openapi_required_fields_are_exactly_the_ones_the_api_refuses_to_go_without(
    slug, api_client, app_ctx, config_override
):
    config_override(SUBMIT_LIMIT_PER_IP="100000/hour", SUBMIT_LIMIT_PER_CONTACT="100000/hour")
    schema = _schema_for(api_client.get("/api/v1/openapi.json").get_json(), slug)
    body = API_BODIES[slug]
    assert set(body) <= set(schema["properties"])

    refused_without = set()
    for field in schema["properties"]:
        response = post(api_client, slug, {name: v for name, v in body.items() if name != field})
        assert response.status_code in (201, 422), (field, response.status_code)
        if response.status_code == 422:
            assert field in response.get_json()["errors"], (field, response.get_json())
            refused_without.add(field)

    assert refused_without == set(schema["required"])
