"""A phone found wrong on a call, and the same person coming back with another number."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, Contact, TimelineEvent, User, utcnow
from crm.models.enums import (
    CallOutcome,
    CallTaskStatus,
    ConsentChannel,
    FormKind,
    Role,
    TimelineKind,
)
from crm.services import capture
from crm.services.leads import LeadInput, RequestMeta
from crm.services.queue import claim_next_call
from tests.calls import due_call, zone_at_midday
from tests.factories import make_user
from tests.staff import StaffClient

META = RequestMeta("203.0.113.9", "pytest", "https://www.example-advocacy.org/callback")
NEW_PHONE = "+13125550187"


def contact(contact_id: int) -> Contact:
    db.session.expire_all()
    return db.session.get(Contact, contact_id)


def wrong_number_logged(app_ctx) -> tuple[int, int, StaffClient]:
    """A callback contact whose number an advocate logged as wrong: (contact, advocate, client)."""
    now = utcnow()
    contact_id, _ = due_call(now - timedelta(hours=1), zone=zone_at_midday(now))
    user = make_user(Role.advocate)
    user_id, email = user.id, user.email
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(email)
    staff.submit("/advocate/queue", {}, form_id="next-call")
    staff.submit(
        f"/contacts/{contact_id}",
        {"outcome": CallOutcome.wrong_number.value, "minutes": "1", "note": ""},
        form_id="call-log-form",
    )
    assert contact(contact_id).phone_wrong_at is not None
    return contact_id, user_id, staff


def ask_for_a_callback_again(contact_id: int, phone: str, first_name: str | None = None) -> None:
    """The same person (same email) sends the callback form again, giving `phone`."""
    known = contact(contact_id)
    lead = LeadInput(
        form=FormKind.callback,
        first_name=first_name or known.first_name,
        last_name=known.last_name,
        email=known.email,
        phone_e164=phone,
        time_zone=known.time_zone,
        consents={ConsentChannel.calls_texts: True, ConsentChannel.email: True},
        details={"best_time": "asap", "message": None},
    )
    capture.submit_lead(lead, META, None)


def open_call(contact_id: int) -> int | None:
    return db.session.scalar(
        sa.select(CallTask.id).where(
            CallTask.contact_id == contact_id, CallTask.status == CallTaskStatus.open
        )
    )


def test_a_new_number_from_the_same_person_replaces_the_wrong_one_and_they_are_called(app_ctx):
    contact_id, user_id, staff = wrong_number_logged(app_ctx)

    ask_for_a_callback_again(contact_id, NEW_PHONE)

    again = contact(contact_id)
    assert (again.phone_e164, again.phone_wrong_at) == (NEW_PHONE, None)
    came_back = db.session.scalar(
        sa.select(TimelineEvent.detail).where(
            TimelineEvent.contact_id == contact_id, TimelineEvent.kind == TimelineKind.reengaged
        )
    )
    assert came_back["new_phone"] is True
    page = staff.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "their new phone number replaces the wrong one" in page
    claim = claim_next_call(db.session.get(User, user_id), utcnow())
    assert claim is not None
    assert (claim.contact_id, claim.call_task_id) == (contact_id, open_call(contact_id))


@pytest.mark.parametrize("who", ["the same number", "another name"])
def test_the_wrong_number_stays_wrong_unless_the_same_person_gives_another(app_ctx, who):
    contact_id, user_id, _ = wrong_number_logged(app_ctx)
    before = contact(contact_id)
    wrong_phone, marked_at = before.phone_e164, before.phone_wrong_at

    if who == "the same number":
        ask_for_a_callback_again(contact_id, wrong_phone)
    else:
        # Someone else typing her email (a relative's form): their number is not hers.
        ask_for_a_callback_again(contact_id, NEW_PHONE, first_name="Rosa")

    again = contact(contact_id)
    assert (again.phone_e164, again.phone_wrong_at) == (wrong_phone, marked_at)
    assert open_call(contact_id) is not None
    assert claim_next_call(db.session.get(User, user_id), utcnow()) is None
