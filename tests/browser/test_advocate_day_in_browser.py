"""The issue's "done when", in Chromium: sign in, search, open a contact, add a note, move it."""

from playwright.sync_api import expect

from crm.models.enums import FormKind, Relationship, Role
from tests.leads import send_lead


def test_an_advocate_finds_a_contact_by_phone_and_works_it(app, signed_in, screenshot):
    with app.app_context():
        send_lead(
            FormKind.callback,
            first_name="Harold",
            last_name="Jennings",
            email="h.jennings@example.com",
            phone="+14135550187",
            relationship=Relationship.patient,
            details={"best_time": "morning", "message": "Navy, 1968 to 1972. Just diagnosed."},
        )
        send_lead(FormKind.guide, first_name="Harriet", last_name="Jenner", email="hj@example.com")
    page = signed_in(Role.advocate, name="Dana Whitfield")

    # Advocates land on the call queue; search is one click away in the staff navigation.
    expect(page.get_by_role("heading", name="Call queue")).to_be_visible()
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    page.get_by_label("Name, email address or phone number").fill("(413) 555-0187")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.get_by_label("Name, email address or phone number").fill("jenn")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table tbody tr")).to_have_count(2)
    screenshot(page, "staff-search")

    page.get_by_role("link", name="Harold Jennings").click()
    expect(page.get_by_role("heading", name="Harold Jennings")).to_be_visible()
    page.get_by_label("Add a note").fill("Veteran: check VA benefits. Calling back at 10am.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Note added.")).to_be_visible()
    page.get_by_label("Move from New to").select_option("qualified")
    page.get_by_label("Why").fill("Diagnosis confirmed; wants a specialist near Springfield.")
    page.get_by_role("button", name="Change stage").click()

    expect(page.locator("#stage")).to_have_text("Qualified")
    expect(page.locator("#timeline li").first).to_contain_text("Stage: New → Qualified")
    expect(page.locator("#timeline")).to_contain_text("Veteran: check VA benefits.")
    screenshot(page, "staff-contact-page")
