"""/metrics: loopback or token only, counters by bounded labels, gauges read at scrape time."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from crm.extensions import db
from crm.models import Chat, OutboxMessage, utcnow
from crm.models.enums import OutboxStatus
from tests.calls import breached_call, due_call
from tests.forms import CALLBACK, GUIDE, FormClient

TOKEN = "metrics-token-for-tests-0123456789"
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def scrape(client, environ=LOOPBACK, **kwargs):
    return client.get("/metrics", environ_base=environ, **kwargs)


def value(text: str, name: str, **labels) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def test_loopback_scrape_shows_every_figure(client, app_ctx):
    client.get("/healthz")
    response = scrape(client)

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for name in (
        "crm_call_queue_depth",
        "crm_sla_breaches",
        "crm_outbox_backlog",
        "crm_outbox_oldest_age_seconds",
        "crm_outbox_given_up",
        "crm_chats_waiting",
        "crm_request_duration_seconds_bucket",
    ):
        assert f"\n{name}" in text, name


def test_gauges_count_what_is_in_the_database_now(client, app_ctx, forms: FormClient):
    now = utcnow()
    due_call(now - timedelta(minutes=1))
    breached_call(now - timedelta(hours=2))
    assert forms.submit("/guide", GUIDE).status_code == 303
    assert forms.submit("/guide", {**GUIDE, "email": "second@example.org"}).status_code == 303
    assert forms.submit("/guide", {**GUIDE, "email": "third@example.org"}).status_code == 303
    ids = sorted(db.session.scalars(sa.select(OutboxMessage.id)))
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == ids[0])
        .values(status=OutboxStatus.dead, given_up_at=now)
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == ids[1])
        .values(status=OutboxStatus.bounced, given_up_at=now)
    )
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == ids[2])
        .values(due_at=now - timedelta(minutes=10))
    )
    db.session.add(Chat(public_token="metrics-test-token", visitor_name="Someone"))
    db.session.commit()

    text = scrape(client).get_data(as_text=True)

    assert value(text, "crm_sla_breaches") == 1
    depth = sum(
        value(text, "crm_call_queue_depth", band=band)
        for band in ("overdue", "callback", "new_lead", "retry")
    )
    assert depth >= 2
    backlog = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.due_at <= utcnow())
    )
    assert value(text, "crm_outbox_backlog") == backlog >= 1
    assert value(text, "crm_outbox_oldest_age_seconds") >= 600
    assert value(text, "crm_outbox_given_up", status="dead") == 1
    assert value(text, "crm_outbox_given_up", status="bounced") == 1
    assert value(text, "crm_chats_waiting") == 1


def test_submissions_are_counted_by_form_kind(client, app_ctx, forms: FormClient):
    before = scrape(client).get_data(as_text=True)
    guide_before = value(before, "crm_submissions_total", form="guide") or 0
    callback_before = value(before, "crm_submissions_total", form="callback") or 0

    assert forms.submit("/guide", GUIDE).status_code == 303
    assert forms.submit("/callback", CALLBACK).status_code == 303

    after = scrape(client).get_data(as_text=True)
    assert value(after, "crm_submissions_total", form="guide") == guide_before + 1
    assert value(after, "crm_submissions_total", form="callback") == callback_before + 1


def test_latency_is_labelled_by_endpoint_never_by_path(client, app_ctx):
    client.get("/no/such/page/4242-secret-token")
    client.get("/healthz")

    text = scrape(client).get_data(as_text=True)

    assert value(text, "crm_request_duration_seconds_count", endpoint="ops.healthz") >= 1
    assert value(text, "crm_request_duration_seconds_count", endpoint="unmatched") >= 1
    assert "4242-secret-token" not in text and "/healthz" not in text


def test_a_remote_caller_without_a_token_finds_nothing(client):
    assert scrape(client, REMOTE).status_code == 404


@pytest.mark.parametrize("hops", [0, 1])
def test_a_forged_forwarded_loopback_address_is_not_loopback(make_app, hops):
    app = make_app(TRUSTED_PROXY_HOPS=hops)
    headers = {"X-Forwarded-For": "127.0.0.1"}

    assert (
        scrape(app.test_client(), {"REMOTE_ADDR": "10.0.0.2"}, headers=headers).status_code == 404
    )


def test_a_request_a_proxy_on_this_host_forwarded_is_not_loopback(make_app):
    # nginx on the same machine: the socket peer is 127.0.0.1, the caller anyone.
    app = make_app(TRUSTED_PROXY_HOPS=1)
    for headers in ({"X-Forwarded-For": "198.51.100.7"}, {"X-Forwarded-For": "127.0.0.1"}):
        assert scrape(app.test_client(), LOOPBACK, headers=headers).status_code == 404


def test_the_bearer_token_lets_a_remote_scraper_in(make_app):
    app = make_app(METRICS_TOKEN=TOKEN, TRUSTED_PROXY_HOPS=1)
    remote = app.test_client()
    forwarded = {"X-Forwarded-For": "198.51.100.7"}

    good = scrape(remote, REMOTE, headers={"Authorization": f"Bearer {TOKEN}", **forwarded})
    wrong = scrape(remote, REMOTE, headers={"Authorization": f"Bearer {TOKEN}x"})
    # A wrong token is refused even from loopback: whoever sent one is not a local check.
    wrong_local = scrape(remote, LOOPBACK, headers={"Authorization": "Bearer nope"})

    assert good.status_code == 200 and b"crm_outbox_backlog" in good.data
    assert wrong.status_code == 404 and wrong_local.status_code == 404


def test_no_token_configured_means_no_token_accepted(client):
    assert scrape(client, REMOTE, headers={"Authorization": "Bearer "}).status_code == 404
