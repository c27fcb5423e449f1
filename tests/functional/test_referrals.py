"""Specialist match on the contact page: matches, the match email, referrals and their statuses."""

import re
from html import unescape

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    AuditEvent,
    OutboxMessage,
    Referral,
    Specialist,
    TimelineEvent,
)
from crm.models.enums import (
    AuditAction,
    Diagnosis,
    FormKind,
    OutboxKind,
    ReferralKind,
    ReferralStatus,
    Role,
    TimelineKind,
)
from crm.services.delivery import deliver_outbox_message
from crm.services.specialists import specialties_for
from tests.factories import make_contact, make_user
from tests.specialists import (
    HOUSTON,
    NEAR_BOSTON,
    NEW_HAVEN,
    NEW_YORK,
    PROVIDENCE,
    make_specialist,
)
from tests.staff import StaffClient


@pytest.fixture
def staff(client):
    return StaffClient(client)


def signed_in(staff, role=Role.advocate) -> int:
    user = make_user(role)
    user_id, email = user.id, user.email
    staff.sign_in(email)
    return user_id


def shown(staff, contact_id: int) -> str:
    return unescape(staff.get(f"/contacts/{contact_id}").get_data(as_text=True))


def listed_matches(staff, contact_id: int) -> list[int]:
    """Specialist ids offered on the contact page, in the order shown."""
    page = staff.get(f"/contacts/{contact_id}").get_data(as_text=True)
    return [int(number) for number in re.findall(r'id="match-(\d+)"', page)]


def send_match(staff, contact_id: int, specialist_ids: list[int]):
    return staff.submit(
        f"/contacts/{contact_id}",
        {"specialist_id": [str(i) for i in specialist_ids]},
        form_id="match-form",
    )


def reread(model, **where) -> list:
    db.session.rollback()  # read what the requests committed
    return db.session.scalars(sa.select(model).filter_by(**where).order_by(model.id)).all()


def match_contact(**fields) -> int:
    return make_contact(FormKind.specialist_match, **fields).id


# --- matching -----------------------------------------------------------------------------------


def test_matches_are_listed_nearest_first(app_ctx, staff):
    far = make_specialist("Dr. Imaginary Farley", ["thoracic_oncology"], NEW_YORK)
    near = make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    middle = make_specialist("Dr. Imaginary Middleton", ["medical_oncology"], PROVIDENCE)
    contact_id = match_contact()
    signed_in(staff)

    assert listed_matches(staff, contact_id) == [near, middle, far]
    page = shown(staff, contact_id)
    assert "· 1 mile ·" in page and "42 miles" in page and "188 miles" in page


def test_veterans_see_va_accepting_specialists_first(app_ctx, staff):
    near = make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    va_far = make_specialist(
        "Dr. Imaginary Veteransworth", ["thoracic_oncology"], NEW_YORK, accepts_va=True
    )
    va_middle = make_specialist(
        "Dr. Imaginary Harbor", ["medical_oncology"], NEW_HAVEN, accepts_va=True
    )
    veteran = match_contact(is_veteran=True)
    civilian = match_contact()
    signed_in(staff)

    assert listed_matches(staff, veteran) == [va_middle, va_far, near]
    assert listed_matches(staff, civilian) == [near, va_middle, va_far]


def test_the_diagnosis_decides_which_specialties_match(app_ctx, staff):
    pleural_surgeon = make_specialist("Dr. Imaginary Pleura", ["pleural_surgery"], NEAR_BOSTON)
    peritoneal_surgeon = make_specialist("Dr. Imaginary Peritonea", ["peritoneal_surgery"], HOUSTON)
    thoracic = make_specialist("Dr. Imaginary Thorax", ["thoracic_oncology"], PROVIDENCE)
    medical = make_specialist("Dr. Imaginary Medica", ["medical_oncology"], NEW_YORK)
    signed_in(staff)

    pleural = match_contact(diagnosis=Diagnosis.pleural)
    peritoneal = match_contact(diagnosis=Diagnosis.peritoneal)
    not_sure = match_contact(diagnosis=Diagnosis.not_sure)

    assert listed_matches(staff, pleural) == [pleural_surgeon, thoracic, medical]
    assert listed_matches(staff, peritoneal) == [medical, peritoneal_surgeon]
    assert listed_matches(staff, not_sure) == [thoracic, medical]
    assert specialties_for(None) == specialties_for(Diagnosis.other)


def test_inactive_specialists_are_not_offered(app_ctx, staff):
    make_specialist("Dr. Imaginary Retired", ["pleural_surgery"], NEAR_BOSTON, active=False)
    active = make_specialist("Dr. Imaginary Active", ["pleural_surgery"], PROVIDENCE)
    contact_id = match_contact()
    signed_in(staff)

    assert listed_matches(staff, contact_id) == [active]


def test_a_contact_who_asked_for_no_match_is_offered_none(app_ctx, staff):
    make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    contact_id = make_contact(FormKind.guide).id
    signed_in(staff)

    page = shown(staff, contact_id)
    assert "No specialist match was asked for." in page
    assert 'id="match-form"' not in page


# --- sending ------------------------------------------------------------------------------------


def test_sending_a_match_opens_referrals_queues_one_email_and_records_it(app_ctx, staff):
    first = make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    second = make_specialist("Dr. Imaginary Middleton", ["medical_oncology"], PROVIDENCE)
    make_specialist("Dr. Imaginary Unchosen", ["thoracic_oncology"], NEW_YORK)
    contact_id = match_contact()
    user_id = signed_in(staff)

    response = send_match(staff, contact_id, [first, second])

    assert response.status_code == 303
    referrals = reread(Referral, contact_id=contact_id)
    assert [(r.specialist_id, r.kind, r.status) for r in referrals] == [
        (first, ReferralKind.specialist, ReferralStatus.sent),
        (second, ReferralKind.specialist, ReferralStatus.sent),
    ]
    emails = reread(OutboxMessage, contact_id=contact_id, kind=OutboxKind.specialist_match)
    assert len(emails) == 1
    assert {r.outbox_id for r in referrals} == {emails[0].id}
    assert {r.created_by_user_id for r in referrals} == {user_id}
    events = reread(TimelineEvent, contact_id=contact_id, kind=TimelineKind.referral_sent)
    assert [(e.actor_user_id, e.outbox_id) for e in events] == [(user_id, emails[0].id)]
    audits = reread(AuditEvent, action=AuditAction.referral_sent)
    assert [a.detail["referral_ids"] for a in audits] == [[r.id for r in referrals]]
    page = shown(staff, contact_id)
    assert "Match email with 2 specialists; referral sent" in page
    assert page.count('class="badge referral-status">Sent<') == 2


def test_the_match_email_names_only_what_the_submission_gave(app_ctx, staff, smtp_sink):
    chosen = make_specialist(
        "Dr. Imaginary Nearing",
        ["pleural_surgery"],
        NEAR_BOSTON,
        organisation="Example Cancer Institute",
        email="nearing@example.org",
    )
    make_specialist("Dr. Imaginary Unchosen", ["thoracic_oncology"], PROVIDENCE)
    contact_id = match_contact(first_name="Maria", email="maria@example.com")
    # A later form with the same address and another first name: the same contact.
    make_contact(FormKind.guide, first_name="Mariana", email="maria@example.com")
    signed_in(staff)
    send_match(staff, contact_id, [chosen])
    (email,) = reread(OutboxMessage, kind=OutboxKind.specialist_match)

    assert deliver_outbox_message(email.id) == "sent"

    (message,) = [m for m in smtp_sink.received() if "specialist_match" in m["Message-ID"]]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert message["To"].addresses[0].addr_spec == "maria@example.com"
    for body in (text, html):
        assert "Dear Maria," in body
        assert "Dr. Imaginary Nearing" in body and "Example Cancer Institute" in body
        assert "(617) 555-0142" in body and "nearing@example.org" in body
        assert "Mariana" not in body
        assert "Unchosen" not in body
        assert "Pleural" not in body  # their diagnosis is not repeated back in an email
        assert db.session.get(Specialist, chosen).zip_code in body  # the specialist's, not theirs
        assert "maria@example.com" not in body
        assert app_ctx.config["ORG_POSTAL_ADDRESS"] in body


def test_no_match_email_goes_to_a_person_who_asked_staff_not_to_email(app_ctx, staff):
    chosen = make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    contact_id = match_contact()
    signed_in(staff)
    staff.submit(f"/contacts/{contact_id}", {}, form_id="dnc-email-form")

    response = send_match(staff, contact_id, [chosen])

    assert response.status_code == 303
    assert reread(Referral) == []
    assert reread(OutboxMessage, kind=OutboxKind.specialist_match) == []
    assert "They opted out of our emails; the match email was not sent." in shown(staff, contact_id)


def test_sending_with_nothing_ticked_is_refused(app_ctx, staff):
    make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    contact_id = match_contact()
    signed_in(staff)

    send_match(staff, contact_id, [])

    assert reread(Referral) == []
    assert "Not done: Choose at least one specialist." in shown(staff, contact_id)


# --- statuses -----------------------------------------------------------------------------------


def move(staff, contact_id: int, referral_id: int, to_status: str):
    return staff.submit(
        f"/contacts/{contact_id}",
        {"to_status": to_status},
        form_id=f"referral-status-{referral_id}",
    )


def test_a_referral_moves_forward_to_seen_on_the_timeline(app_ctx, staff):
    chosen = make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    contact_id = match_contact()
    user_id = signed_in(staff)
    send_match(staff, contact_id, [chosen])
    (referral,) = reread(Referral)

    move(staff, contact_id, referral.id, "appointment_scheduled")
    move(staff, contact_id, referral.id, "seen")

    assert reread(Referral)[0].status == ReferralStatus.seen
    updates = reread(TimelineEvent, kind=TimelineKind.referral_updated)
    assert [(e.detail["from"], e.detail["to"], e.actor_user_id) for e in updates] == [
        ("sent", "appointment_scheduled", user_id),
        ("appointment_scheduled", "seen", user_id),
    ]
    assert len(reread(AuditEvent, action=AuditAction.referral_updated)) == 2
    assert f"Referral #{referral.id}: Appointment scheduled → Seen" in shown(staff, contact_id)


@pytest.mark.parametrize(
    ("path", "refused_move"),
    [
        (["declined"], "seen"),  # declined is the end
        ([], "seen"),  # no skipping the appointment
        (["appointment_scheduled"], "sent"),  # no going back
    ],
)
def test_moves_outside_the_rule_are_refused(app_ctx, staff, path, refused_move):
    chosen = make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    contact_id = match_contact()
    signed_in(staff)
    send_match(staff, contact_id, [chosen])
    (referral,) = reread(Referral)
    for step in path:
        move(staff, contact_id, referral.id, step)
    before = reread(Referral)[0].status
    token = staff.csrf_token()

    staff.post(
        f"/contacts/{contact_id}/referrals/{referral.id}/status",
        data={"csrf_token": token, "expected_from": before.value, "to_status": refused_move},
    )

    assert reread(Referral)[0].status == before
    assert "Not done: A referral cannot go from" in shown(staff, contact_id)


def test_a_veteran_is_handed_off_for_a_va_claim(app_ctx, staff):
    contact_id = match_contact(is_veteran=True)
    signed_in(staff)

    staff.submit(f"/contacts/{contact_id}", {}, form_id="va-claims-form")

    (referral,) = reread(Referral)
    assert (referral.kind, referral.specialist_id, referral.outbox_id) == (
        ReferralKind.va_claims_handoff,
        None,
        None,
    )
    assert "Handed off to VA claims help" in shown(staff, contact_id)


def test_managers_list_referrals_by_status(app_ctx, staff):
    chosen = make_specialist("Dr. Imaginary Nearing", ["pleural_surgery"], NEAR_BOSTON)
    other = make_specialist("Dr. Imaginary Middleton", ["medical_oncology"], PROVIDENCE)
    contact_id = match_contact(first_name="Rosa")
    signed_in(staff, Role.manager)
    send_match(staff, contact_id, [chosen, other])
    first = reread(Referral)[0]
    move(staff, contact_id, first.id, "declined")

    declined = unescape(staff.get("/manager/referrals?status=declined").get_data(as_text=True))
    everything = unescape(staff.get("/manager/referrals").get_data(as_text=True))

    assert "Dr. Imaginary Nearing" in declined and "Dr. Imaginary Middleton" not in declined
    assert "Dr. Imaginary Nearing" in everything and "Dr. Imaginary Middleton" in everything
    assert "Rosa" in declined
    assert staff.get("/manager/referrals?status=lost").status_code == 400
    assert len(reread(AuditEvent, action=AuditAction.referrals_viewed)) == 2


def test_advocates_cannot_open_the_managers_referral_list(app_ctx, staff):
    signed_in(staff)

    assert staff.get("/manager/referrals").status_code == 403
