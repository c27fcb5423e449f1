"""Log lines carry the request id (or Celery task id) and ids only, as JSON or text."""

import json
import logging

import pytest

from crm.services.ops import logs
from tests.forms import GUIDE, FormClient

HEX_ID = 32


@pytest.fixture
def json_logs(app, make_app):
    """An app logging JSON at INFO to stderr; the session's app takes the console back after."""
    yield make_app(LOG_FORMAT="json", LOG_LEVEL="INFO")
    logs.configure_logging(app.config)


def test_a_well_formed_request_id_is_kept_and_returned(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42:9"})

    assert response.headers["X-Request-ID"] == "lb-7f3a.42:9"


@pytest.mark.parametrize(
    "header", ["", "x" * 65, "has space", "line\nbreak", "<script>", "-leading-dash"]
)
def test_a_missing_or_odd_request_id_is_replaced(client, header):
    # Through the environ: the test client itself refuses a header with a line break.
    response = client.get("/healthz", environ_base={"HTTP_X_REQUEST_ID": header})

    returned = response.headers["X-Request-ID"]
    assert returned != header and len(returned) == HEX_ID and int(returned, 16) >= 0


def test_every_line_of_a_submit_carries_its_request_id_and_no_personal_data(
    client, app_ctx, caplog
):
    caplog.set_level(logging.INFO)
    forms = FormClient(client)
    page = forms.open("/guide")
    caplog.clear()

    response = forms.submit("/guide", GUIDE, page=page, headers={"X-Request-ID": "submit-1"})

    assert response.status_code == 303
    lines = [r for r in caplog.records if r.name.startswith("crm")]
    assert lines and {r.request_id for r in lines} == {"submit-1"}
    assert any(r.name == "crm.requests" and "public.guide 303" in r.getMessage() for r in lines)
    formatted = "\n".join(logs.JsonFormatter().format(r) for r in caplog.records)
    for private in (GUIDE["first_name"], GUIDE["last_name"], "Example.com", "555-0134", "02110"):
        assert private.lower() not in formatted.lower()


def test_json_lines_on_the_console_parse_and_name_their_request(json_logs, capfd):
    capfd.readouterr()
    json_logs.test_client().get("/healthz", headers={"X-Request-ID": "probe-1"})

    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line]
    request_line = next(line for line in lines if line["logger"] == "crm.requests")
    assert request_line["request_id"] == "probe-1"
    assert request_line["message"].startswith("GET ops.healthz 200 ")
    assert {"time", "level", "logger", "message"} <= set(request_line)


def _log_a_line():
    logging.getLogger("crm.tests").warning("a line from a task")


def test_a_task_log_line_carries_the_task_id(app, caplog):
    celery = app.extensions["celery"]
    if "tests.log_a_line" not in celery.tasks:
        celery.task(name="tests.log_a_line")(_log_a_line)

    result = celery.tasks["tests.log_a_line"].apply()

    (record,) = [r for r in caplog.records if r.name == "crm.tests"]
    assert record.task_id == result.id and record.request_id == ""
    assert json.loads(logs.JsonFormatter().format(record))["task_id"] == result.id


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.formatter_for("xml")


def test_an_unhandled_error_is_logged_by_endpoint_not_path(make_app, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)  # answered with a 500, as in production

    def fail(token):
        raise RuntimeError("boom")

    app.add_url_rule("/fails/<token>", "fails", fail)

    response = app.test_client().get("/fails/secret-token-123", headers={"X-Request-ID": "err-1"})

    assert response.status_code == 500 and response.headers["X-Request-ID"] == "err-1"
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "Exception in fails [GET]" and record.request_id == "err-1"
    assert "secret-token-123" not in logs.JsonFormatter().format(record)
