"""The contact page: everything about one person, opened only by advocates and managers."""

import re
from html import unescape

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent
from crm.models.enums import AuditAction, FormKind, Relationship, Role
from crm.services import notes
from tests.factories import make_user
from tests.leads import MAILING_ADDRESS, send_lead
from tests.staff import StaffClient


@pytest.fixture
def staff(client):
    return StaffClient(client)


def signed_in(staff, role=Role.advocate, **fields):
    user = make_user(role, **fields)
    user_id, email = user.id, user.email
    staff.sign_in(email)
    return user_id


def spouse_asking_for_guide_then_callback():
    """A spouse who asked for the printed guide, then for a call: two submissions, one person."""
    send_lead(
        FormKind.guide,
        email="rosa@example.com",
        relationship=Relationship.spouse,
        details={
            "interests": ["treatment", "va_benefits"],
            "printed_guide": True,
            "mailing_address": MAILING_ADDRESS,
        },
        attribution={"utm_source": "newsletter", "utm_campaign": "fall-guide"},
    )
    return send_lead(
        FormKind.callback,
        email="rosa@example.com",
        phone="+16175550134",
        relationship=Relationship.spouse,
        details={"best_time": "afternoon", "message": "My husband was diagnosed last week."},
    ).id


def text_of(html: str) -> str:
    """The page's words as a reader sees them: tags left out, entities read, white space folded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_page_shows_the_person_their_submissions_consents_calls_and_guide(app_ctx, staff):
    contact_id = spouse_asking_for_guide_then_callback()
    signed_in(staff)

    response = staff.get(f"/contacts/{contact_id}")

    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    assert "Who wrote The patient's spouse or partner" in page
    assert "Free guide" in page and "Callback request" in page
    assert "Message My husband was diagnosed last week." in page
    assert "Interested in Treatment options, VA benefits help" in page
    assert "12 Harbor Street Apt 4 Boston, MA 02110" in page
    assert "Source newsletter" in page and "Campaign fall-guide" in page
    assert "Email: agreed" in page and "Calls and texts: agreed" in page
    assert "Requested a callback: call due" in page and "Afternoon (noon to 5pm)" in page
    assert "Printed guide: To print" in page


def test_the_timeline_is_newest_first_with_who_acted(app_ctx, staff):
    contact_id = spouse_asking_for_guide_then_callback()
    advocate_id = signed_in(staff, name="Ada Vocate")
    notes.add_note(contact_id, advocate_id, "Left a voicemail.")
    db.session.commit()

    page = text_of(staff.get(f"/contacts/{contact_id}").get_data(as_text=True))

    timeline = page[page.index("Timeline (newest first)") :]
    order = [
        timeline.index(text)
        for text in (
            "Note",
            "Came back: sent the Callback request form",
            "New lead: sent the Free guide form",
        )
    ]
    assert order == sorted(order)
    assert "Left a voicemail." in timeline
    assert "Ada Vocate" in timeline and "Visitor" in timeline
    assert "Guide email queued" in timeline and "now: Pending" in timeline


def test_every_view_of_a_contact_is_audited_with_who_which_contact_and_address(app_ctx, staff):
    contact_id = send_lead(FormKind.guide, email="ana@example.com").id
    advocate_id = signed_in(staff)

    staff.get(f"/contacts/{contact_id}")
    staff.get(f"/contacts/{contact_id}")

    views = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.contact_viewed)
    ).all()
    assert [(v.actor_user_id, v.contact_id, v.ip_address) for v in views] == [
        (advocate_id, contact_id, "127.0.0.1")
    ] * 2
    assert all(view.created_at.utcoffset().total_seconds() == 0 for view in views)


@pytest.mark.parametrize(
    ("role", "status"), [(Role.advocate, 200), (Role.manager, 200), (Role.admin, 403)]
)
def test_advocates_and_managers_open_a_contact_and_admins_do_not(app_ctx, staff, role, status):
    contact_id = send_lead(FormKind.guide, email="ana@example.com").id
    signed_in(staff, role)

    response = staff.get(f"/contacts/{contact_id}")

    assert response.status_code == status
    viewed = db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == AuditAction.contact_viewed)
    )
    assert viewed == (1 if status == 200 else 0)


def test_anyone_not_signed_in_is_sent_to_sign_in(app_ctx, staff):
    contact_id = send_lead(FormKind.guide, email="ana@example.com").id

    response = staff.get(f"/contacts/{contact_id}")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=/contacts/{contact_id}"


def test_an_unknown_contact_is_not_found(app_ctx, staff):
    signed_in(staff)

    assert staff.get("/contacts/999999").status_code == 404


def test_a_long_timeline_shows_the_newest_events_and_says_older_exist(app_ctx, staff):
    contact_id = send_lead(FormKind.guide, email="ana@example.com").id
    advocate_id = signed_in(staff)
    for number in range(200):
        notes.add_note(contact_id, advocate_id, f"Call number {number}.")
    db.session.commit()

    page = text_of(staff.get(f"/contacts/{contact_id}").get_data(as_text=True))

    assert "Call number 199." in page
    assert "New lead: sent the Free guide form" not in page
    assert "Only the newest 200 events are shown; older ones exist." in page


def test_the_page_reads_a_fixed_number_of_queries_however_long_the_history(app, app_ctx, staff):
    contact_id = send_lead(FormKind.callback, phone="+16175550134", email="ana@example.com").id
    advocate_id = signed_in(staff)
    notes.add_note(contact_id, advocate_id, "The first note.")
    db.session.commit()
    statements = []

    def count(*args):
        statements.append(1)

    def queries_for_page() -> int:
        statements.clear()
        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", count)
            try:
                assert staff.get(f"/contacts/{contact_id}").status_code == 200
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    few = queries_for_page()
    for number in range(30):
        notes.add_note(contact_id, advocate_id, f"Note {number}.")
    send_lead(FormKind.guide, phone="+16175550134", email="ana@example.com")
    db.session.commit()

    assert queries_for_page() == few
