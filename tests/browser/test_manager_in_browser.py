"""A manager's review round in a real browser: spam released, a guide shipped, the audit log."""

import sqlalchemy as sa
from playwright.sync_api import expect

from crm.extensions import db
from crm.models import GuideFulfilment, SuspectedSpam
from crm.models.enums import FormKind, Role
from crm.services.actors import SYSTEM
from crm.services.fulfilment import mark_printed
from tests.factories import make_contact


def test_a_manager_releases_spam_ships_a_guide_and_filters_the_audit_log(
    app, signed_in, screenshot
):
    with app.app_context():
        kept = SuspectedSpam(
            form=FormKind.guide,
            reason="too_fast",
            fields={
                "first_name": "Rosa",
                "last_name": "Delgado",
                "email": "rosa.delgado@example.org",
                "zip": "02110",
                "interests": "treatment",
                "consent_email": "y",
            },
            ip_address="203.0.113.50",
        )
        db.session.add(kept)
        address = {"line1": "5 Beacon St", "line2": None, "city": "Boston", "state": "MA"}
        contact = make_contact(
            first_name="Hal",
            last_name="Porter",
            details={"printed_guide": True, "mailing_address": {**address, "zip": "02108"}},
        )
        contact_id = contact.id
        item_id = db.session.scalar(
            sa.select(GuideFulfilment.id).where(GuideFulfilment.contact_id == contact_id)
        )
        mark_printed(item_id, SYSTEM)
        db.session.commit()
    page = signed_in(Role.manager, name="Mona Manager")
    nav = page.get_by_role("navigation", name="Staff")

    nav.get_by_role("link", name="Spam review").click()
    expect(page.get_by_text("rosa.delgado@example.org")).to_be_visible()
    page.get_by_role("button", name="Release as a lead").click()
    expect(page.get_by_role("status")).to_contain_text("as a lead")

    nav.get_by_role("link", name="Printed guides").click()
    page.get_by_role("navigation", name="Status").get_by_role("link", name="Printed").click()
    expect(page.get_by_text("5 Beacon St")).to_be_visible()
    page.get_by_label("Tracking number").fill("1Z 999 AA1")
    page.get_by_role("button", name="Mark shipped").click()
    expect(page.get_by_role("status")).to_contain_text("tracking 1Z 999 AA1")

    nav.get_by_role("link", name="Audit").click()
    page.get_by_label("Action").select_option(label="Updated a printed guide")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Mona Manager")
    expect(rows.first).to_contain_text(f"Contact {contact_id}")
    screenshot(page, "manager-audit")
