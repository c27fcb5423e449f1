"""Spam review: managers read kept submits as text, release real people once, delete the rest."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from config import Config
from crm.extensions import db
from crm.models import AuditEvent, Contact, Submission, SuspectedSpam, utcnow
from crm.models.enums import AuditAction, FormKind, Role
from crm.services import spam
from tests.factories import make_user
from tests.forms import GUIDE
from tests.staff import StaffClient

SCRIPT = "<script>alert('pwned')</script>"


@pytest.fixture
def manager(app, app_ctx) -> StaffClient:
    staff = StaffClient(app.test_client())
    staff.sign_in(make_user(Role.manager, name="Mona Manager").email)
    return staff


def keep_as_spam(forms, **answers) -> int:
    """Send the public guide form as a bot would (honeypot filled); return the kept row's id."""
    person = {**GUIDE, "website": "https://spam.example", **answers}
    assert forms.submit("/guide", person).status_code == 303
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.max(SuspectedSpam.id)))


def audited(action: AuditAction) -> list[AuditEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_kept_submits_are_listed_newest_first_with_reason_ip_and_what_was_sent(forms, manager):
    older = keep_as_spam(forms, first_name="Olga")
    newer = keep_as_spam(forms, first_name="Nadia", website=SCRIPT)

    page = manager.get("/manager/spam").get_data(as_text=True)

    assert page.index(f'id="spam-{newer}"') < page.index(f'id="spam-{older}"')
    assert "honeypot" in page and "127.0.0.1" in page and "Free guide" in page
    assert "Olga" in page and "Nadia" in page and "Maria.Lopez@Example.com" in page
    # What a bot typed is shown as text, never as markup.
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page


def test_viewing_spam_is_audited_with_the_ids_shown(forms, manager, config_override):
    config_override(STAFF_PAGE_SIZE=2)
    first, second, third = (keep_as_spam(forms, first_name=name) for name in ("Ann", "Bea", "Cy"))

    page_one = manager.get("/manager/spam").get_data(as_text=True)
    page_two = manager.get(f"/manager/spam?before_id={second}").get_data(as_text=True)

    assert f'href="/manager/spam?before_id={second}"' in page_one
    assert "Cy" in page_one and "Bea" in page_one and "Ann" not in page_one
    assert "Ann" in page_two and "Older entries" not in page_two
    shown = [event.detail["spam_ids"] for event in audited(AuditAction.spam_viewed)]
    assert shown == [[third, second], [first]]


def test_releasing_makes_one_lead_even_when_the_button_is_pressed_twice(forms, manager):
    kept = keep_as_spam(forms, email="real.person@example.org")
    release_form = manager.form("/manager/spam", action=f"/manager/spam/{kept}/release")

    first = manager.post(release_form.action, data=release_form.values, follow_redirects=True)
    again = manager.post(release_form.action, data=release_form.values, follow_redirects=True)

    assert "as a lead" in first.get_data(as_text=True)
    assert "was already released" in again.get_data(as_text=True)
    assert count(Submission) == 1
    contact = db.session.scalar(sa.select(Contact).order_by(Contact.id))
    assert contact.email == "real.person@example.org"
    row = db.session.get(SuspectedSpam, kept)
    assert row.released_at is not None
    assert [(e.contact_id, e.detail) for e in audited(AuditAction.spam_released)] == [
        (contact.id, {"spam_id": kept, "already": False}),
        (contact.id, {"spam_id": kept, "already": True}),
    ]
    listing = manager.get("/manager/spam").get_data(as_text=True)
    assert f"/manager/spam/{kept}/release" not in listing and "Released" in listing


def test_a_submit_the_form_would_refuse_stays_kept_with_the_reason(forms, manager):
    kept = keep_as_spam(forms, email="not-an-email")

    response = manager.submit("/manager/spam", {}, action=f"/manager/spam/{kept}/release")

    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not released. Its answers would not pass the form: email:" in page
    assert count(Submission) == 0 and db.session.get(SuspectedSpam, kept).released_at is None
    assert audited(AuditAction.spam_released) == []


def test_deleting_removes_the_row_and_audits_only_its_id(forms, manager):
    kept, other = keep_as_spam(forms), keep_as_spam(forms, first_name="Other")

    response = manager.submit("/manager/spam", {}, action=f"/manager/spam/{kept}/delete")

    assert response.status_code == 302
    assert db.session.get(SuspectedSpam, kept) is None
    assert db.session.get(SuspectedSpam, other) is not None
    (event,) = audited(AuditAction.spam_deleted)
    assert (event.detail, event.contact_id) == ({"spam_id": kept}, None)


def test_kept_submits_are_kept_thirty_days_unless_configured():
    assert Config.SPAM_RETENTION_DAYS == 30


def test_purge_deletes_unreleased_spam_past_the_retention_and_keeps_the_rest(app_ctx):
    now = utcnow()
    ages = {"old": 31, "recent": 29, "old_but_released": 40}
    for reason, days in ages.items():
        db.session.add(
            SuspectedSpam(
                form=FormKind.guide,
                reason=reason,
                fields={},
                created_at=now - timedelta(days=days),
                released_at=now if reason == "old_but_released" else None,
            )
        )
    db.session.commit()

    purged = spam.purge_expired(now, retention_days=30)
    db.session.commit()

    assert purged == 1
    assert sorted(db.session.scalars(sa.select(SuspectedSpam.reason))) == [
        "old_but_released",
        "recent",
    ]


def test_beat_runs_the_purge_task_with_the_configured_retention(app, app_ctx, config_override):
    config_override(SPAM_RETENTION_DAYS=7)
    db.session.add(
        SuspectedSpam(
            form=FormKind.guide, reason="x", fields={}, created_at=utcnow() - timedelta(days=8)
        )
    )
    db.session.commit()
    celery = app.extensions["celery"]
    (task_name,) = [
        entry["task"]
        for entry in celery.conf.beat_schedule.values()
        if entry["task"].startswith("spam.")
    ]

    assert celery.tasks[task_name]() == 1
    assert count(SuspectedSpam) == 0
