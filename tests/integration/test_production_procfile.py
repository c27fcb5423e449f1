"""The production Procfile starts a working stack: ready, takes a submit, mails it, stops.

gunicorn, a Celery worker and beat under honcho, on the test PostgreSQL database, a Redis
database of the tests' own and a real SMTP server with STARTTLS; production settings, so the
app's own fail-closed checks pass only with everything production needs.
"""

import json
import re
import secrets
import ssl
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
import redis
import sqlalchemy as sa
import trustme

from crm.crypto import new_key_entry
from crm.extensions import db
from crm.models import OutboxMessage
from crm.models.enums import OutboxKind, OutboxStatus
from tests.forms import GUIDE, FormClient
from tests.production_stack import running_stack, stack_env
from tests.smtp_sink import free_port, start_smtp_sink
from tests.worker import WORKER_REDIS_URL, wait_until

pytestmark = pytest.mark.postgres_only
DELIVERY_TIMEOUT = 60
VISITOR = {**GUIDE, "email": "procfile.visitor@example.org", "last_name": "Procfileson"}


@pytest.fixture
def tls_sink(tmp_path):
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    controller, sink = start_smtp_sink(tls_context=context, require_starttls=True)
    yield f"smtp://127.0.0.1:{controller.port}", str(ca_file), sink
    controller.stop()


def submit_guide_form(stack) -> int:
    """GET the form, keep its cookie and hidden fields, POST the answers (as a browser does)."""
    status, headers, html = stack.get("/guide")
    assert status == 200
    cookie = SimpleCookie(headers.get("Set-Cookie", ""))
    page = FormClient(None).page_from("/guide", html.decode())
    body = urlencode({**page.defaults, **VISITOR}).encode()
    status, _, _ = stack.post(
        page.action,
        body,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            # The session cookie is Secure (a TLS proxy stands in front in production).
            "Cookie": "; ".join(f"{name}={morsel.value}" for name, morsel in cookie.items()),
            "X-Request-ID": "procfile-submit",
        },
    )
    return status


def guide_email_status(app):
    with app.app_context():
        status = db.session.scalar(
            sa.select(OutboxMessage.status).where(OutboxMessage.kind == OutboxKind.guide_email)
        )
        db.session.remove()
    return status


def metric(text: str, pattern: str) -> float:
    match = re.search(rf"^{pattern} ([0-9.e+]+)$", text, re.MULTILINE)
    assert match, pattern
    return float(match.group(1))


def test_the_procfile_stack_serves_mails_and_stops(app, tmp_path, tls_sink):
    smtp_url, ca_file, sink = tls_sink
    redis.Redis.from_url(WORKER_REDIS_URL).flushdb()
    (tmp_path / "metrics").mkdir()
    port = free_port()
    env = stack_env(
        CRM_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(32),
        DATA_KEYS=new_key_entry("procfile-test"),
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=WORKER_REDIS_URL,
        SMTP_URL=smtp_url,
        SMTP_CA_FILE=ca_file,
        PUBLIC_BASE_URL="https://crm.example.org",
        TRUSTED_PROXY_HOPS=0,
        CRM_INSTANCE_DIR=tmp_path / "instance",
        PROMETHEUS_MULTIPROC_DIR=tmp_path / "metrics",
        FORM_MIN_SECONDS=0,
        BEAT_HEARTBEAT_INTERVAL_SECONDS=1,
        WEB_CONCURRENCY=2,
        WEB_THREADS=2,
        CELERY_CONCURRENCY=1,
    )

    with running_stack(env, tmp_path, port) as stack:
        stack.wait_until_ready()
        processes = len(stack.started)

        assert submit_guide_form(stack) == 303
        wait_until(lambda: guide_email_status(app) == OutboxStatus.sent, DELIVERY_TIMEOUT)
        (message,) = sink.received()
        assert message["To"].endswith("<procfile.visitor@example.org>")

        status, _, body = stack.get("/metrics")
        assert status == 200
        scraped = body.decode()
        assert metric(scraped, r'crm_submissions_total\{form="guide"\}') == 1
        assert metric(scraped, r'crm_emails_sent_total\{kind="guide_email"\}') == 1

        left_running = stack.stop()
        log = stack.log()

    assert left_running == set()
    # honcho, its three process runners, gunicorn's master and two workers, the Celery
    # worker and its pool child, beat: all of it stopped by the SIGTERM to honcho.
    assert processes >= 8
    assert "web.1" in log and "worker.1" in log and "beat.1" in log
    request_lines = [
        json.loads(line.split("| ", 1)[1])
        for line in log.splitlines()
        if "| {" in line and '"crm.requests"' in line
    ]
    assert any(line.get("request_id") == "procfile-submit" for line in request_lines)
    for private in ("procfile.visitor", "Procfileson", "555-0134"):
        assert private not in log
