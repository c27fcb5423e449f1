"""A visitor is never refused because Redis is: limits fall back to memory, no broker is used."""

import sqlalchemy as sa

from crm import create_app
from crm.extensions import db
from crm.models import OutboxMessage, Submission
from crm.models.enums import OutboxKind
from tests.forms import GUIDE, FormClient

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
