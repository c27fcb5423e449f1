"""Admins upload the organisation's own guide PDF; the guide email sends it behind a cover page."""

import hashlib
import io
import re
from datetime import UTC, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pypdf import PdfReader, PdfWriter

from crm.extensions import db
from crm.models import AuditEvent, Contact, GuideDocument, OutboxMessage
from crm.models.enums import AuditAction, OutboxKind, Role
from crm.services import delivery
from tests.factories import make_user
from tests.forms import GUIDE
from tests.staff import StaffClient

A4 = (595.0, 842.0)
NEW_YORK = ZoneInfo("America/New_York")


def designed_pdf(pages: int = 3, size=A4, label: str = "Designed guide", lines: int = 0) -> bytes:
    """A PDF as a designer would export it: a heading per page, then `lines` lines of text."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=size, pageCompression=0)
    for number in range(1, pages + 1):
        drawing.drawString(72, size[1] - 100, f"{label} page {number}")
        for line in range(lines):
            drawing.drawString(72, size[1] - 120 - line, f"Body text {line} of page {number}")
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(designed_pdf(1))))
    writer.encrypt("a-secret-password")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def admin(app):
    with app.app_context():
        user = make_user(Role.admin, name="Ada Minh")
        user_id, email = user.id, user.email
    staff = StaffClient(app.test_client())
    staff.sign_in(email)
    staff.user_id = user_id
    return staff


def upload(staff: StaffClient, data: bytes, filename: str = "guide.pdf", **extra):
    """Post the upload form as a browser does: multipart, with the page's CSRF token."""
    form = staff.form("/admin/guide", form_id="upload-guide")
    body = {**form.values, "file": (io.BytesIO(data), filename), **extra}
    return staff.post("/admin/guide", data=body, content_type="multipart/form-data")


def versions(app) -> list[tuple[int, int, bool]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                GuideDocument.version, GuideDocument.page_count, GuideDocument.active
            ).order_by(GuideDocument.version)
        ).all()
    return [tuple(row) for row in rows]


def audit_rows(app, action: AuditAction) -> list[tuple]:
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(AuditEvent.actor_user_id, AuditEvent.ip_address, AuditEvent.detail)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        ]


def test_an_admin_uploads_the_guide_and_it_is_kept_as_version_one(app, admin):
    pdf = designed_pdf(3)

    response = upload(admin, pdf, filename="../../Our Guide (final) 2026.pdf")

    assert response.status_code == 302
    page = admin.get("/admin/guide").get_data(as_text=True)
    assert "Guide emails send <strong>version 1</strong>" in page
    with app.app_context():
        stored = db.session.scalar(sa.select(GuideDocument))
        assert stored.content == pdf
        assert stored.sha256 == hashlib.sha256(pdf).hexdigest()
        assert (stored.size_bytes, stored.page_count) == (len(pdf), 3)
        assert stored.filename == "Our-Guide-final-2026.pdf"
        assert stored.uploaded_by_user_id == admin.user_id
    assert audit_rows(app, AuditAction.guide_uploaded) == [
        (admin.user_id, "127.0.0.1", {"version": 1, "pages": 3})
    ]
    assert admin.get("/admin/guide/1.pdf").data == pdf


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "That file is empty."),
        (b"PK\x03\x04 a zip file, not a guide", "That file is not a PDF."),
        (b"%PDF-1.7\nnot really a PDF at all", "That PDF is damaged and cannot be read."),
        (encrypted_pdf(), "That PDF is password-protected."),
    ],
    ids=["empty", "not-a-pdf", "damaged", "encrypted"],
)
def test_a_file_the_guide_email_cannot_use_is_refused_with_the_reason(app, admin, data, message):
    response = upload(admin, data)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert versions(app) == []
    assert audit_rows(app, AuditAction.guide_uploaded) == []


def test_a_pdf_over_the_size_limit_is_refused(app, admin, config_override):
    pdf = designed_pdf(3)
    config_override(GUIDE_UPLOAD_MAX_BYTES=len(pdf) - 1)

    response = upload(admin, pdf)

    assert response.status_code == 422
    assert "the limit is" in response.get_data(as_text=True)
    assert versions(app) == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(app, admin, config_override):
    config_override(GUIDE_UPLOAD_MAX_BYTES=10 * 1024)

    response = upload(admin, b"%PDF-" + b"0" * 200_000)

    assert response.status_code == 413
    assert "That file is over the 10 KB limit." in response.get_data(as_text=True)
    assert versions(app) == []


def test_a_guide_bigger_than_the_app_wide_body_limit_is_accepted(app, admin):
    # Over a megabyte: bigger than one multipart buffer, and written to a temporary file.
    pdf = designed_pdf(30, lines=700)
    assert len(pdf) > 16 * app.config["MAX_CONTENT_LENGTH"]

    assert upload(admin, pdf).status_code == 302
    assert versions(app) == [(1, 30, True)]


def test_other_forms_keep_the_small_app_wide_body_limit(app, admin):
    token = admin.csrf_token()
    big = {"csrf_token": token, "name": "x" * 100_000}

    assert admin.post("/admin/users/new", data=big).status_code == 413


def test_an_upload_without_the_csrf_token_is_refused(app, admin):
    response = admin.post(
        "/admin/guide",
        data={"file": (io.BytesIO(designed_pdf(1)), "guide.pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert versions(app) == []


# --- the guide email -----------------------------------------------------------------------------


def noon_after(moment):
    local = moment.astimezone(NEW_YORK)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return (noon if noon >= local else noon + timedelta(days=1)).astimezone(UTC)


def guide_email(app, forms, smtp_sink, first_name: str = "Henrietta", contact_says=None):
    """Ask for the guide through the public form and send the guide email; return it.

    contact_says: a first name the contact record holds by the time the email goes out.
    """
    assert forms.submit("/guide", {**GUIDE, "first_name": first_name}).status_code == 303
    with app.app_context():
        if contact_says:
            db.session.execute(sa.update(Contact).values(first_name=contact_says))
            db.session.commit()
        message = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.guide_email)
        )
        assert delivery.deliver_outbox_message(message.id, noon_after(message.due_at)) == "sent"
    (sent,) = smtp_sink.received()
    return sent


def attached_pdf(message) -> PdfReader:
    (pdf,) = [
        part.get_content()
        for part in message.walk()
        if part.get_content_type() == "application/pdf"
    ]
    return PdfReader(io.BytesIO(pdf))


def linked_pdf(client, message) -> PdfReader:
    text = message.get_body(preferencelist=("plain",)).get_content()
    url = re.search(r"https?://\S+/guide/download/[\w.\-]+", text)[0]
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return PdfReader(io.BytesIO(response.data))


def assert_cover_then_upload(reader: PdfReader, first_name: str, uploaded_pages: int) -> None:
    assert len(reader.pages) == 1 + uploaded_pages
    cover = reader.pages[0].extract_text()
    assert f"Prepared for {first_name}" in cover
    # The cover takes the designed guide's page size, so the document reads as one.
    assert [float(v) for v in reader.pages[0].mediabox[2:]] == list(A4)
    for number in range(1, uploaded_pages + 1):
        assert f"Designed guide page {number}" in reader.pages[number].extract_text()


@pytest.mark.parametrize("delivery_mode", ["attachment", "link"])
def test_the_guide_email_sends_the_uploaded_guide_behind_a_cover_naming_the_requester(
    app, admin, forms, client, smtp_sink, config_override, delivery_mode
):
    config_override(GUIDE_DELIVERY=delivery_mode)
    upload(admin, designed_pdf(3))

    # The contact record may say something else (another person typed the same email):
    # the cover speaks to whoever asked for this guide (DESIGN.md rule 7).
    message = guide_email(app, forms, smtp_sink, first_name="Henrietta", contact_says="Zora")

    reader = attached_pdf(message) if delivery_mode == "attachment" else linked_pdf(client, message)
    assert_cover_then_upload(reader, "Henrietta", uploaded_pages=3)
    assert "Zora" not in reader.pages[0].extract_text()


def test_without_an_upload_the_generated_guide_is_sent_as_before(
    app, forms, smtp_sink, config_override
):
    config_override(GUIDE_DELIVERY="attachment")

    reader = attached_pdf(guide_email(app, forms, smtp_sink, first_name="Henrietta"))

    first_page = reader.pages[0].extract_text()
    assert "Prepared for Henrietta by the patient advocates" in first_page
    assert "A mesothelioma diagnosis raises many questions" in first_page
    assert "Designed guide" not in "".join(page.extract_text() for page in reader.pages)


def test_an_admin_goes_back_to_an_earlier_version_and_then_to_the_generated_guide(
    app, admin, forms, smtp_sink, config_override
):
    config_override(GUIDE_DELIVERY="attachment")
    upload(admin, designed_pdf(2))
    upload(admin, designed_pdf(5))
    assert versions(app) == [(1, 2, True), (2, 5, True)]

    admin.submit("/admin/guide", {}, action="/admin/guide/1/use")

    assert versions(app) == [(1, 2, True), (2, 5, False)]
    assert audit_rows(app, AuditAction.guide_version_chosen) == [
        (admin.user_id, "127.0.0.1", {"version": 1})
    ]
    assert_cover_then_upload(
        attached_pdf(guide_email(app, forms, smtp_sink)), "Henrietta", uploaded_pages=2
    )

    admin.submit("/admin/guide", {}, form_id="use-generated")

    assert versions(app) == [(1, 2, False), (2, 5, False)]
    assert "Guide emails send the generated guide" in admin.get("/admin/guide").get_data(
        as_text=True
    )
