"""Links in our emails: one-click unsubscribe, the guide download, and the dev mailbox."""

import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer
from itsdangerous.timed import TimestampSigner

from crm import create_app
from crm.extensions import db
from crm.models import EmailSuppression, OutboxMessage, Submission, TimelineEvent
from crm.models.enums import OutboxKind, OutboxStatus, TimelineKind
from crm.services import delivery, email_content
from tests.forms import GUIDE, FormClient
from tests.unit.test_config import GOOD_PRODUCTION

NEW_YORK = ZoneInfo("America/New_York")


def row(kind: OutboxKind) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == kind))


def at_noon_after(moment: datetime) -> datetime:
    """Noon in New York on the first day it comes at or after `moment`: inside the window."""
    local = moment.astimezone(NEW_YORK)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return (noon if noon >= local else noon + timedelta(days=1)).astimezone(UTC)


def send(kind: OutboxKind) -> None:
    message = row(kind)
    assert delivery.deliver_outbox_message(message.id, at_noon_after(message.due_at)) == "sent"


def suppressions() -> list[str]:
    return list(db.session.scalars(sa.select(EmailSuppression.email)))


def unsubscribed_events() -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.unsubscribed)
        )
    )


@pytest.fixture
def unsubscribe_path(forms, app_ctx, smtp_sink) -> str:
    """The path of the one-click link in the day-2 check-in Maria really received."""
    forms.submit("/guide", GUIDE)
    send(OutboxKind.guide_check_in)
    (message,) = smtp_sink.received()
    url = re.fullmatch(r"\s*<(\S+)>", str(message["List-Unsubscribe"]))[1]
    return urlsplit(url).path


def test_opening_the_unsubscribe_link_only_asks_to_confirm(client, unsubscribe_path):
    response = client.get(unsubscribe_path)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'action="{unsubscribe_path}"' in page and "Unsubscribe me" in page
    assert suppressions() == []
    assert unsubscribed_events() == []


ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def test_one_click_post_without_cookies_unsubscribes_the_address(app, unsubscribe_path, smtp_sink):
    mail_client = app.test_client(use_cookies=False)

    response = mail_client.post(unsubscribe_path, data=ONE_CLICK)

    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    assert suppressions() == ["maria.lopez@example.com"]
    (event,) = unsubscribed_events()
    assert event.contact_id == row(OutboxKind.guide_check_in).contact_id
    # From now on only what she asked for reaches her; the day-7 offer does not.
    offer = row(OutboxKind.specialist_offer)
    assert delivery.deliver_outbox_message(offer.id, at_noon_after(offer.due_at)) == "cancelled"
    assert row(OutboxKind.specialist_offer).status == OutboxStatus.cancelled
    send(OutboxKind.guide_email)
    assert len(smtp_sink.received()) == 2


def test_a_second_one_click_on_the_same_link_is_harmless(app, unsubscribe_path):
    mail_client = app.test_client(use_cookies=False)
    assert mail_client.post(unsubscribe_path, data=ONE_CLICK).status_code == 200

    again = mail_client.post(unsubscribe_path, data=ONE_CLICK)

    assert again.status_code == 200
    assert "You are unsubscribed" in again.get_data(as_text=True)
    assert suppressions() == ["maria.lopez@example.com"]
    assert len(unsubscribed_events()) == 1


def test_the_unsubscribe_link_carries_no_email_address(unsubscribe_path):
    token = unsubscribe_path.rsplit("/", 1)[-1]

    assert "@" not in unsubscribe_path and "%40" not in unsubscribe_path
    assert "maria" not in unsubscribe_path.lower()
    _, payload = URLSafeSerializer("any key").loads_unsafe(token)
    assert payload == row(OutboxKind.guide_check_in).id


def test_a_forged_or_unknown_unsubscribe_link_is_not_found(client, app_ctx, unsubscribe_path):
    token = unsubscribe_path.rsplit("/", 1)[-1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    unknown_row = email_content.unsubscribe_token(10_000)
    guessed = URLSafeSerializer("dev-only-not-secret-guess", salt="unsubscribe").dumps(1)

    for bad in (forged, unknown_row, guessed, "not-a-token"):
        assert client.get(f"/unsubscribe/{bad}").status_code == 404, bad
        assert client.post(f"/unsubscribe/{bad}").status_code == 404, bad
    assert suppressions() == []


# --- the guide download ----------------------------------------------------------------------


@pytest.fixture
def guide_path(forms, app_ctx, smtp_sink, config_override) -> str:
    """The download link's path from the guide email Maria really received."""
    config_override(GUIDE_DELIVERY="link")
    forms.submit("/guide", GUIDE)
    send(OutboxKind.guide_email)
    (message,) = smtp_sink.received()
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    url = re.search(r"https?://\S+/guide/download/[\w.\-]+", text)[0]
    assert f'href="{url}"' in html
    return urlsplit(url).path


def test_the_link_in_the_guide_email_downloads_the_guide_pdf(client, guide_path):
    response = client.get(guide_path)

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert len(response.data) > 2048
    assert b"%%EOF" in response.data[-32:]
    assert "no-store" in response.headers["Cache-Control"]


def signed_days_ago(monkeypatch, public_id: str, days: int) -> str:
    """A guide link as it would have been signed `days` ago."""
    signed_at = int(time.time()) - days * 24 * 3600
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
        return email_content.guide_token(public_id)


def test_a_guide_link_older_than_thirty_days_shows_the_expired_page(
    client, app_ctx, monkeypatch, guide_path
):
    public_id = db.session.scalar(sa.select(Submission.public_id))

    recent = client.get(f"/guide/download/{signed_days_ago(monkeypatch, public_id, 29)}")
    expired = client.get(f"/guide/download/{signed_days_ago(monkeypatch, public_id, 31)}")

    assert recent.status_code == 200 and recent.mimetype == "application/pdf"
    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)
    assert not expired.data.startswith(b"%PDF")


def test_a_tampered_guide_link_serves_no_pdf(client, guide_path):
    response = client.get(guide_path[:-3] + "xyz")

    assert response.status_code in (404, 410)
    assert not response.data.startswith(b"%PDF")


# --- the development mailbox ----------------------------------------------------------------


def test_the_dev_mailbox_does_not_exist_outside_development(client):
    assert client.get("/dev/mailbox").status_code == 404


def test_the_dev_mailbox_lists_and_shows_the_emails_written_to_files(app, tmp_path):
    dev_app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "DEV_MAILBOX_ENABLED": True,
            "SMTP_URL": "",
            "MAIL_DIR": str(tmp_path),
        },
    )
    visitor = dev_app.test_client()
    assert FormClient(visitor).submit("/guide", GUIDE).status_code == 303
    with dev_app.app_context():
        guide_email = row(OutboxKind.guide_email)
        sent = delivery.deliver_outbox_message(guide_email.id, guide_email.due_at)
        db.session.remove()
        db.engine.dispose()
    (eml,) = tmp_path.glob("*.eml")

    listing = visitor.get("/dev/mailbox")
    shown = visitor.get(f"/dev/mailbox/{eml.name}")
    html = visitor.get(f"/dev/mailbox/{eml.name}/html")
    missing = visitor.get("/dev/mailbox/no-such-message.eml")

    assert sent == "sent"
    assert listing.status_code == 200
    assert "Your free mesothelioma guide" in listing.get_data(as_text=True)
    assert eml.name in listing.get_data(as_text=True)
    assert shown.status_code == 200 and "/guide/download/" in shown.get_data(as_text=True)
    assert html.mimetype == "text/html" and "Download your free guide" in html.get_data(True)
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert missing.status_code == 404
    from_elsewhere = visitor.get("/dev/mailbox", environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert from_elsewhere.status_code == 404


def test_the_dev_mailbox_is_never_there_in_production(make_app, monkeypatch):
    for name, value in GOOD_PRODUCTION.items():
        monkeypatch.setenv(name, value)

    production = make_app("production", DEV_MAILBOX_ENABLED=True)

    assert "dev" not in production.blueprints
