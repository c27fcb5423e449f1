"""What the submit limits keep in Redis: counts under HMAC keys, never who was counted."""

import pytest
import redis
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Submission, SuspectedSpam
from tests.conftest import REDIS_TEST_URL
from tests.forms import CALLBACK, GUIDE


def _everything_in_redis() -> str:
    """Every key of the test database and every string value, as one text to search."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    parts = []
    for key in client.scan_iter(count=1000):
        parts.append(key.decode(errors="replace"))
        if client.type(key) == b"string":
            parts.append((client.get(key) or b"").decode(errors="replace"))
    return "\n".join(parts)


@pytest.mark.postgres_only
def test_redis_holds_no_email_phone_or_ip_of_a_visitor_who_submitted(forms, app_ctx):
    response = forms.submit("/guide", GUIDE)
    assert response.status_code == 303

    stored = _everything_in_redis()

    assert "submit-email" in stored and "submit-phone" in stored and "submit-ip" in stored
    for personal in ("maria.lopez@example.com", "Maria.Lopez", "example.com", "127.0.0.1"):
        assert personal.lower() not in stored.lower()
    for digits in ("6175550134", "617-555-0134", "+16175550134", "5550134"):
        assert digits not in stored


def test_a_submit_over_one_limit_counts_against_none_of_the_others(forms, app_ctx, config_override):
    config_override(SUBMIT_LIMIT_PER_CONTACT="1/hour", SUBMIT_LIMIT_PER_IP="100/hour")
    first = {**CALLBACK, "email": "first@example.org"}
    same_email_new_phone = {**first, "phone": "312-555-0188"}
    new_email_that_phone = {**CALLBACK, "phone": "312-555-0188", "email": "other@example.org"}

    statuses = [
        forms.submit("/callback", answers).status_code
        for answers in (first, same_email_new_phone, new_email_that_phone)
    ]

    assert statuses == [303, 303, 303]  # the refused one is kept apart, answered the same
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 2
    assert db.session.scalars(sa.select(SuspectedSpam.reason)).all() == ["rate_limited"]
