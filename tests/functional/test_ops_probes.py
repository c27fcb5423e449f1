"""/healthz and /readyz: no sign-in, cheap, and a 503 that names the failed check and no host."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Heartbeat, utcnow
from crm.services.ops import health
from tests.tcp_proxy import TcpProxy

BOUNDS = {"DB_CONNECT_TIMEOUT_SECONDS": 1, "DB_STATEMENT_TIMEOUT_MS": 1000}
REFUSED_REDIS = "redis://127.0.0.1:1/0"


def beat_at(moment) -> None:
    health.record_beat(moment)


def assert_names_no_host(body: str, *hosts: str) -> None:
    for host in ("127.0.0.1", "localhost", "postgres", "redis://", "sqlite", *hosts):
        assert host not in body


def test_healthz_answers_without_sign_in_or_database(client, make_app):
    no_database = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/x")

    for app_client in (client, no_database.test_client()):
        response = app_client.get("/healthz")
        assert response.status_code == 200
        assert response.get_json() == {"status": "ok"}
        assert "Set-Cookie" not in response.headers


def test_readyz_is_200_when_every_check_passes(client, app_ctx):
    beat_at(utcnow())

    response = client.get("/readyz")

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "beat": "ok", "broker": "ok"},
        "failed": [],
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_fails_until_beat_has_been_seen(client, app_ctx):
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["beat"] and body["checks"]["beat"] == "never seen"


def test_readyz_fails_when_the_beat_heartbeat_is_older_than_the_threshold(
    client, app_ctx, config_override
):
    config_override(BEAT_HEARTBEAT_MAX_AGE_SECONDS=60)
    beat_at(utcnow() - timedelta(seconds=90))

    assert client.get("/readyz").get_json()["checks"]["beat"] == "stale"
    config_override(BEAT_HEARTBEAT_MAX_AGE_SECONDS=120)
    assert client.get("/readyz").status_code == 200


def test_the_heartbeat_task_writes_one_row_however_often_it_runs(app, app_ctx):
    # This app's own task: an app another test built may be Celery's current one.
    beat_heartbeat = app.extensions["celery"].tasks["ops.heartbeat"]
    beat_heartbeat.apply()
    first = db.session.scalar(sa.select(Heartbeat.beat_at))
    db.session.remove()
    beat_heartbeat.apply()

    rows = db.session.execute(sa.select(Heartbeat.name, Heartbeat.beat_at)).all()
    assert [name for name, _ in rows] == ["beat"] and rows[0].beat_at >= first


def test_beat_schedules_the_heartbeat(app):
    schedule = app.config["CELERY"]["beat_schedule"]
    assert schedule["beat-heartbeat"]["task"] == "ops.heartbeat"
    assert schedule["beat-heartbeat"]["schedule"] < app.config["BEAT_HEARTBEAT_MAX_AGE_SECONDS"]


def test_readyz_fails_when_migrations_are_not_at_head(client, app_ctx):
    beat_at(utcnow())
    (head,) = health.migration_heads()
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0021'"))
    db.session.commit()
    try:
        response = client.get("/readyz")
    finally:
        db.session.execute(
            sa.text("UPDATE alembic_version SET version_num = :head"), {"head": head}
        )
        db.session.commit()

    assert response.status_code == 503
    assert response.get_json()["failed"] == ["migrations", "beat"]
    assert response.get_json()["checks"]["migrations"] == "not at head"
    assert response.get_json()["checks"]["beat"] == "unknown"


def test_readyz_says_migrations_when_the_database_was_never_migrated(make_app, tmp_path):
    empty = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    body = empty.test_client().get("/readyz").get_json()

    assert body["checks"]["database"] == "ok" and body["checks"]["migrations"] == "not at head"
    assert body["failed"] == ["migrations", "beat"]


def test_readyz_fails_when_the_broker_is_unreachable(app, app_ctx, make_app):
    beat_at(utcnow())
    celery = {**app.config["CELERY"], "broker_url": REFUSED_REDIS}
    no_broker = make_app(CELERY=celery)

    response = no_broker.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["failed"] == ["broker"]
    assert_names_no_host(response.get_data(as_text=True), ":1/")


@pytest.fixture
def proxy(app):
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("the TCP proxy stands in front of PostgreSQL")
    tcp = TcpProxy((url.host, url.port or 5432))
    yield tcp
    tcp.stop()


def test_readyz_fails_while_the_database_is_down_and_recovers(app, app_ctx, proxy, make_app):
    beat_at(utcnow())
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(host="127.0.0.1", port=proxy.port)
    proxied = make_app(SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False), **BOUNDS)
    probe = proxied.test_client()
    assert probe.get("/readyz").status_code == 200

    proxy.cut()
    down = probe.get("/readyz")
    proxy.restore()
    back = probe.get("/readyz")

    assert down.status_code == 503
    assert down.get_json()["failed"] == ["database", "migrations", "beat"]
    assert down.get_json()["checks"]["database"] == "unreachable"
    assert_names_no_host(down.get_data(as_text=True), str(proxy.port), "crm_test")
    assert back.status_code == 200
