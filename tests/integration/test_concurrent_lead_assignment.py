"""New leads arriving at the same moment on PostgreSQL are still dealt out evenly."""

from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact
from crm.models.enums import ConsentChannel, FormKind, Role
from crm.services.capture import submit_lead
from crm.services.leads import LeadInput, RequestMeta
from tests.factories import make_user
from tests.integration.test_concurrent_submits import THREADS, all_at_once

pytestmark = pytest.mark.postgres_only

NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # noon in New York, on a Wednesday
ADVOCATES = 4  # fewer than the submits: every advocate is in the middle of a turn at once


def new_person(index: int) -> LeadInput:
    return LeadInput(
        form=FormKind.guide,
        first_name="Maria",
        last_name="Lopez",
        email=f"together{index}@example.com",
        phone_e164=None,
        time_zone="America/New_York",
        consents={ConsentChannel.email: True},
        details={"interests": [], "printed_guide": False},
    )


def test_new_leads_sent_at_once_are_dealt_evenly_among_the_advocates_on_shift(app):
    with app.app_context():
        advocates = [make_user(Role.advocate).id for _ in range(ADVOCATES)]

    def submit(index: int) -> int:
        with app.app_context():
            meta = RequestMeta("203.0.113.9", "pytest", "https://x.test/guide")
            result = submit_lead(new_person(index), meta, f"together:{index}", NOW)
            return result.contact_id

    contact_ids = all_at_once(submit)

    with app.app_context():
        owners = db.session.scalars(
            sa.select(Contact.assigned_user_id).where(Contact.id.in_(contact_ids))
        ).all()
    assert len(owners) == THREADS
    assert Counter(owners) == {advocate: THREADS // ADVOCATES for advocate in advocates}
