"""Consent records written by staff (migration 0008): told apart, guarded, and undone cleanly."""

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.models import ConsentRecord, utcnow
from crm.models.enums import ConsentChannel, FormKind
from tests.integration.test_migrations import (  # noqa: F401 (fixtures)
    MIGRATIONS,
    guarded_events,
    throwaway_app,
    throwaway_database_url,
)
from tests.leads import send_lead


def test_a_consent_record_comes_from_a_submission_or_names_the_staff_member(app_ctx):
    contact_id = send_lead(FormKind.guide, email="ana@example.com").id

    with pytest.raises(IntegrityError):
        db.session.execute(
            sa.insert(ConsentRecord.__table__).values(
                contact_id=contact_id,
                channel=ConsentChannel.email,
                granted=False,
                text="from nowhere",
                text_version="v0",
                recorded_at=utcnow(),
            )
        )
    db.session.rollback()


_NOW = "2026-11-20 10:00:00"
_ROWS = [
    "INSERT INTO users (id, email, name, role, password_hash, active, skills, languages,"
    f" created_at, updated_at) VALUES (1, 'ada@example.org', 'Ada', 'advocate', 'x', true,"
    f" '[]', '[\"en\"]', '{_NOW}', '{_NOW}')",
    "INSERT INTO contacts (id, first_name, last_name, email, is_veteran, stage,"
    " submission_count, created_at, updated_at)"
    f" VALUES (1, 'Maria', 'Lopez', 'maria@example.com', false, 'new', 1, '{_NOW}', '{_NOW}')",
    "INSERT INTO submissions (id, public_id, form, contact_id, is_reengagement, fields,"
    f" created_at) VALUES (1, 'p1', 'guide', 1, false, '{{}}', '{_NOW}')",
    "INSERT INTO consent_records (id, contact_id, submission_id, channel, granted, text,"
    f" text_version, recorded_at, form) VALUES (1, 1, 1, 'email', true, 'I agree', 'v1',"
    f" '{_NOW}', 'guide')",
    "INSERT INTO consent_records (id, contact_id, channel, granted, text, text_version,"
    f" recorded_at, recorded_by_user_id) VALUES (2, 1, 'email', false, 'Told staff', 'staff',"
    f" '{_NOW}', 1)",
]


def test_downgrading_0008_drops_staff_records_and_keeps_the_consent_guard(throwaway_app):  # noqa: F811
    with throwaway_app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.begin() as connection:
            for statement in _ROWS:
                connection.execute(sa.text(statement))

        downgrade(directory=MIGRATIONS, revision="0006")
        with db.engine.connect() as connection:
            kept = connection.scalars(sa.text("SELECT id FROM consent_records")).all()
            guarded_before = guarded_events(connection, "consent_records")
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            guarded_after = guarded_events(connection, "consent_records")

    assert kept == [1]
    assert guarded_before == guarded_after == {"UPDATE", "DELETE"}
