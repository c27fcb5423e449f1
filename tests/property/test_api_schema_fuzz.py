"""Schemathesis against /api/v1/openapi.json: whatever its schema lets a client send, no 5xx.

The calls go through the WSGI app (no socket), with a live API key, for every operation the
document lists: valid bodies (positive) and bodies that break the schema (negative).
Derandomized and bounded (max_examples per operation and mode), so that CI sees the same
examples on every run, in seconds. Every response must conform to the document (status
codes, content type, body schema), and nothing may be logged at ERROR (a database error, an
unhandled exception) along the way.

Schemathesis' own pytest loader (`from_fixture`) does not run on pytest 9 yet; its strategies
do, so each operation is driven by a plain hypothesis test here.
"""

import io
import logging

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, example, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as general_checks
from schemathesis.specs.openapi import checks as openapi_checks

from crm.extensions import db
from crm.models import Chat, Submission, SuspectedSpam
from tests.forms import CALLBACK, GUIDE, SPECIALIST

SCHEMA_FUZZ = settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
# Random strings rarely make a valid phone or email: one known-good body per form, so that the
# stored path (201) is fuzzed around too, not only the refusals.
STORED = {
    "/api/v1/submissions/guide": GUIDE,
    "/api/v1/submissions/callback": CALLBACK,
    "/api/v1/submissions/specialist-match": SPECIALIST,
}
CHECKS = [
    general_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture
def api_schema(app, config_override):
    config_override(
        SUBMIT_LIMIT_PER_IP="100000/hour",
        SUBMIT_LIMIT_PER_CONTACT="100000/hour",
        SUBMIT_LIMIT_PER_API_KEY="100000/hour",
    )
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_as_its_schema_says_and_never_5xx(api_schema, api_key, caplog, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert any(op.path.startswith("/api/v1/submissions/") for op in operations)
    answered = set()

    for operation in operations:
        sample = STORED.get(operation.path)
        known_good = operation.Case(body=as_json(sample)) if sample else None

        @SCHEMA_FUZZ
        @given(case=operation.as_strategy(generation_mode=mode))
        @example(case=known_good)
        def call(case):
            if case is None:
                return
            caplog.clear()
            with caplog.at_level(logging.ERROR):
                response = case.call(headers={"Authorization": f"Bearer {api_key}"})
            assert response.status_code < 500, response.text
            case.validate_response(response, checks=CHECKS)
            assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
            answered.add(response.status_code)

        call()

    assert 201 in answered and 422 in answered, answered


def as_json(answers: dict) -> dict:
    """A form's sample answers as the API takes them: ticked boxes as true."""
    return {name: True if value == "y" else value for name, value in answers.items()}


@pytest.mark.parametrize(
    "path",
    [
        *STORED,
        "/guide",
        "/callback",
        "/specialist-match",
        "/embed/guide",
        "/chat/start",  # (/chat/messages without a chat redirects before reading a body)
    ],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
def test_an_oversize_body_is_refused_with_413_and_nothing_stored(app, api_key, path, chunked):
    """One byte over MAX_CONTENT_LENGTH, said up front or streamed without a length."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = b'{"message": "' + b"x" * limit + b'"}'
    is_api = path.startswith("/api/")
    content_type = "application/json" if is_api else "application/x-www-form-urlencoded"
    data = body if is_api else b"message=" + b"x" * limit
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": content_type}
    if chunked:
        # No Content-Length: the server (gunicorn) de-chunks and marks the input as terminated.
        kwargs = {
            "input_stream": io.BytesIO(data),
            "environ_overrides": {"wsgi.input_terminated": True},
        }
    else:
        kwargs = {"data": data}

    response = app.test_client().post(path, headers=headers, **kwargs)

    assert response.status_code == 413
    assert response.is_json == is_api
    with app.app_context():
        for model in (Submission, SuspectedSpam, Chat):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
