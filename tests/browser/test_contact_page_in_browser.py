"""The contact page in a real browser: an advocate reads a lead, writes a note, moves its stage."""

import json

from playwright.sync_api import expect

from crm.models.enums import FormKind, Relationship, Role
from tests.leads import MAILING_ADDRESS, send_lead


def test_an_advocate_adds_a_note_and_changes_the_stage_in_the_browser(app, signed_in, screenshot):
    with app.app_context():
        send_lead(
            FormKind.guide,
            first_name="Rosa",
            last_name="Alvarez",
            email="rosa@example.com",
            relationship=Relationship.spouse,
            details={
                "interests": ["treatment"],
                "printed_guide": True,
                "mailing_address": MAILING_ADDRESS,
            },
            attribution={"utm_source": "newsletter"},
        )
        contact_id = send_lead(
            FormKind.callback,
            first_name="Rosa",
            last_name="Alvarez",
            email="rosa@example.com",
            phone="+16175550134",
            relationship=Relationship.spouse,
            details={"best_time": "afternoon", "message": "My husband was diagnosed last week."},
        ).id
    page = signed_in(Role.advocate, name="Ada Vocate")

    page.goto(f"/contacts/{contact_id}")
    expect(page.get_by_role("heading", name="Rosa Alvarez")).to_be_visible()
    expect(page.locator("#submitter")).to_have_text("The patient's spouse or partner")

    page.get_by_label("Add a note").fill("Left a voicemail; she prefers afternoons.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Note added.")).to_be_visible()
    expect(page.locator("#timeline li").first).to_contain_text(
        "Left a voicemail; she prefers afternoons."
    )

    page.get_by_label("Move from New to").select_option("contacted")
    page.get_by_label("Why").fill("Reached her on the second call.")
    page.get_by_role("button", name="Change stage").click()

    expect(page.get_by_text("Stage changed to Contacted.")).to_be_visible()
    expect(page.locator("#stage")).to_have_text("Contacted")
    expect(page.locator("#timeline li").first).to_contain_text("Stage: New → Contacted")
    expect(page.locator("#timeline li").first).to_contain_text("Ada Vocate")
    screenshot(page, "contact-page")


def test_a_manager_downloads_a_persons_data_in_the_browser(app, signed_in, tmp_path):
    with app.app_context():
        contact_id = send_lead(
            FormKind.callback,
            first_name="Rosa",
            last_name="Alvarez",
            phone="+16175550134",
            details={"best_time": "afternoon", "message": "My husband was diagnosed last week."},
        ).id
    page = signed_in(Role.manager)

    page.goto(f"/contacts/{contact_id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download everything we hold about this person").click()

    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"contact-{contact_id}-data.json"
    held = json.loads(saved.read_text())
    assert held["contacts"][0]["first_name"] == "Rosa"
    assert held["submissions"][0]["fields"]["message"] == "My husband was diagnosed last week."
