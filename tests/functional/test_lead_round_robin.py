"""New leads are shared out in turn among the advocates on shift when they arrive."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, TimelineEvent
from crm.models.enums import ActorKind, FormKind, Role, TimelineKind
from tests.factories import make_contact, make_user
from tests.staff import StaffClient

# A Wednesday, noon in New York: every advocate with the default working hours is on shift.
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
# The same Wednesday at 23:00 in New York: nobody with the default hours is at work.
NIGHT = NOW + timedelta(hours=11)


def advocates_on_shift(how_many: int) -> list[int]:
    return [make_user(Role.advocate).id for _ in range(how_many)]


def new_lead(at: datetime = NOW, **fields) -> Contact:
    return make_contact(FormKind.callback, received_at=at, **fields)


def test_six_new_leads_go_two_each_to_the_three_advocates_on_shift(app_ctx):
    on_shift = advocates_on_shift(3)
    leaver = make_user(Role.advocate)
    leaver.active, disabled = False, leaver.id  # left the team
    db.session.commit()
    off_shift = make_user(Role.advocate, working_hours="06:00-07:00").id
    make_user(Role.manager)  # managers assign; they are not dealt new leads

    owners = [new_lead().assigned_user_id for _ in range(6)]

    assert owners == on_shift * 2  # in turn, the longest-waiting first
    assert Counter(owners) == {user_id: 2 for user_id in on_shift}
    assert disabled not in owners and off_shift not in owners


def test_the_assignment_is_on_the_timeline_as_the_systems_doing(app_ctx):
    (advocate,) = advocates_on_shift(1)

    contact = new_lead()

    event = db.session.scalar(
        sa.select(TimelineEvent).where(
            TimelineEvent.contact_id == contact.id, TimelineEvent.kind == TimelineKind.assigned
        )
    )
    assert contact.assigned_user_id == advocate
    assert event.actor_kind == ActorKind.system and event.actor_user_id is None
    assert event.detail["to_user_id"] == advocate and event.detail["from_user_id"] is None


def test_the_contact_page_says_who_was_dealt_the_lead(app_ctx):
    make_user(Role.advocate, name="Rosa Diaz")
    contact = new_lead()
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(make_user(Role.manager).email)

    page = staff.get(f"/contacts/{contact.id}").get_data(as_text=True)

    assert "Assigned to Rosa Diaz in turn" in page


def test_with_nobody_on_shift_a_new_lead_stays_unassigned(app_ctx):
    advocates_on_shift(2)

    contact = new_lead(at=NIGHT)

    assert contact.assigned_user_id is None
    assigned = sa.select(TimelineEvent.id).where(
        TimelineEvent.contact_id == contact.id, TimelineEvent.kind == TimelineKind.assigned
    )
    assert db.session.scalar(assigned) is None


def test_a_returning_contact_keeps_their_advocate(app_ctx):
    first, second = advocates_on_shift(2)
    contact = new_lead(email="back@example.com")
    assert contact.assigned_user_id == first

    again = new_lead(at=NOW + timedelta(hours=1), email="back@example.com")

    assert again.id == contact.id
    assert again.assigned_user_id == first
    # The return did not take a turn: the next new lead goes to the second advocate.
    assert new_lead().assigned_user_id == second


def test_a_returning_contact_nobody_had_is_not_dealt_out_on_return(app_ctx):
    contact = new_lead(at=NIGHT, email="night@example.com")
    advocates_on_shift(1)

    again = new_lead(at=NIGHT + timedelta(hours=13), email="night@example.com")

    assert again.id == contact.id and again.assigned_user_id is None
