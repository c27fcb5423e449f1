"""A visitor is never refused because Redis is: limits fall back to memory, no broker is used.

Sign-in is the opposite: while its limiter cannot count, it is refused (fails closed), and
comes back by itself when Redis answers again.
"""

import pytest
import sqlalchemy as sa

from crm import create_app
from crm.extensions import db
from crm.models import AuditEvent, OutboxMessage, Submission
from crm.models.enums import AuditAction, OutboxKind, Role
from crm.views.auth import LIMITER_DOWN
from tests.conftest import REDIS_TEST_URL
from tests.factories import make_user
from tests.forms import GUIDE, FormClient
from tests.staff import StaffClient
from tests.tcp_proxy import TcpProxy
from tests.worker import wait_until

# Nothing listens on port 1: every connection is refused at once.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_submits_are_stored_while_redis_is_unreachable(app):
    celery_settings = {**app.config["CELERY"], "broker_url": UNREACHABLE_REDIS}
    offline_app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_STORAGE_URI": UNREACHABLE_REDIS,
            "REDIS_URL": UNREACHABLE_REDIS,
            "CELERY": celery_settings,
        },
    )
    forms = FormClient(offline_app.test_client())
    statuses = [
        forms.submit(
            "/guide", {**GUIDE, "email": f"visitor{n}@example.com", "phone": ""}
        ).status_code
        for n in range(3)
    ]
    with offline_app.app_context():
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(Submission))
        queued = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == OutboxKind.guide_email)
        )
        db.session.remove()
        db.engine.dispose()

    assert statuses == [303, 303, 303]
    assert stored == 3
    assert queued == 3  # the follow-ups wait in the outbox, not in the broker


def test_rate_limits_still_apply_in_memory_while_redis_is_unreachable(app):
    offline_app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_STORAGE_URI": UNREACHABLE_REDIS,
            "SUBMIT_LIMIT_PER_CONTACT": "2/hour",
        },
    )
    forms = FormClient(offline_app.test_client())
    statuses = [forms.submit("/guide", GUIDE).status_code for _ in range(4)]
    with offline_app.app_context():
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(Submission))
        db.session.remove()
        db.engine.dispose()

    assert statuses == [303] * 4
    assert stored == 2


@pytest.fixture
def advocate_email(app) -> str:
    with app.app_context():
        email = make_user(Role.advocate, email="ada@example.org").email
        db.session.remove()
    return email


def throttled_details(app) -> list[dict]:
    with app.app_context():
        details = db.session.scalars(
            sa.select(AuditEvent.detail)
            .where(AuditEvent.action == AuditAction.sign_in_throttled)
            .order_by(AuditEvent.id)
        ).all()
        db.session.remove()
    return list(details)


def test_sign_in_is_refused_while_the_limiter_cannot_count(app, make_app, advocate_email):
    offline_app = make_app(RATELIMIT_STORAGE_URI=UNREACHABLE_REDIS)
    staff = StaffClient(offline_app.test_client())

    response = staff.sign_in(advocate_email)  # the right password, even

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert "Sign-in is paused just now" in page
    assert 'value="ada@example.org"' in page
    assert staff.get("/staff").status_code == 302
    assert throttled_details(app) == [{"counter": "unavailable"}]


def test_a_redis_cut_refuses_sign_in_keeps_submits_and_recovers_by_itself(
    app, make_app, advocate_email
):
    redis_url = sa.make_url(REDIS_TEST_URL.replace("redis://", "postgresql://"))
    proxy = TcpProxy((redis_url.host, redis_url.port or 6379))
    try:
        proxied = make_app(
            RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{proxy.port}/{redis_url.database or 0}",
            RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1, "socket_timeout": 1},
        )
        staff = StaffClient(proxied.test_client())
        forms = FormClient(proxied.test_client())
        assert staff.sign_in(advocate_email).status_code == 302
        staff.sign_out()

        proxy.cut()
        refused = staff.sign_in(advocate_email)
        submitted = forms.submit("/guide", {**GUIDE, "phone": None})

        assert refused.status_code == 503
        assert LIMITER_DOWN.split(":")[0] in refused.get_data(as_text=True)
        assert submitted.status_code == 303
        proxy.restore()
        # The limiter tries Redis again a few seconds after it failed: no restart needed.
        wait_until(lambda: staff.sign_in(advocate_email).status_code == 302, 20, interval=0.5)
    finally:
        proxy.stop()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1
        db.session.remove()
    assert staff.get("/staff").status_code == 200
