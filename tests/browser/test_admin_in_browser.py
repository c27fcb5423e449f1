"""Admin pages in a real browser: add an advocate with skills, upload the guide PDF."""

import io

import sqlalchemy as sa
from playwright.sync_api import expect

from crm.extensions import db
from crm.models import GuideDocument, User
from crm.models.enums import Role


def test_an_admin_adds_an_advocate_with_skills_in_the_browser(signed_in, app, screenshot):
    page = signed_in(Role.admin, name="Ada Minh")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()

    page.get_by_role("link", name="Add a user").click()
    page.get_by_label("Email").fill("rosa.diaz@example.org")
    page.get_by_label("Name", exact=True).fill("Rosa Diaz")
    page.get_by_label("Role").select_option(label="Advocate")
    page.get_by_label("VA benefits").check()
    page.get_by_label("Spanish").check()
    page.get_by_label("Languages").fill("en, es")
    page.get_by_label("Working hours").fill("09:00-17:30")
    page.get_by_label("Initial password").fill("password1234")
    page.get_by_role("button", name="Add user").click()

    # The policy's reason sits on the field; the rest of the answers are kept.
    expect(page.get_by_text("That password is too common; choose another.")).to_be_visible()
    expect(page.get_by_label("Spanish")).to_be_checked()
    screenshot(page, "admin-add-user")
    page.get_by_label("Initial password").fill("Tide-Lantern-Quill-88")
    page.get_by_role("button", name="Add user").click()

    expect(page.get_by_text("Added Rosa Diaz (Advocate).")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Rosa Diaz")
    expect(row).to_contain_text("VA benefits")
    expect(row).to_contain_text("Spanish")
    expect(row).to_contain_text("09:00-17:30")
    screenshot(page, "admin-users")
    with app.app_context():
        rosa = db.session.scalar(sa.select(User).where(User.email == "rosa.diaz@example.org"))
        assert (rosa.role, rosa.skills) == (Role.advocate, ["spanish", "va_benefits"])


def test_an_admin_uploads_the_guide_pdf_in_the_browser(signed_in, app, screenshot):
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    drawing.drawString(72, 720, "Our designed guide")
    drawing.showPage()
    drawing.save()
    page = signed_in(Role.admin)

    page.get_by_role("link", name="Guide", exact=True).click()
    expect(page.get_by_text("Guide emails send the generated guide")).to_be_visible()
    page.get_by_label("Guide PDF").set_input_files(
        {"name": "guide.pdf", "mimeType": "application/pdf", "buffer": buffer.getvalue()}
    )
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_text("Version 1 uploaded: guide emails now use it.")).to_be_visible()
    expect(page.get_by_role("cell", name="guide.pdf")).to_be_visible()
    screenshot(page, "admin-guide")
    with app.app_context():
        assert db.session.scalar(sa.select(GuideDocument.page_count)) == 1
