"""What staff do on the contact page, through its real forms (CSRF on): each change audited."""

from html import unescape

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    AuditEvent,
    CallTask,
    ConsentRecord,
    Contact,
    EmailSuppression,
    Note,
    OutboxMessage,
    StageChange,
    TimelineEvent,
)
from crm.models.enums import (
    AuditAction,
    CallTaskStatus,
    CloseOutcome,
    ConsentChannel,
    FormKind,
    Language,
    OutboxKind,
    OutboxStatus,
    Role,
    Stage,
    TimelineKind,
)
from crm.services import stages
from crm.services.actors import Actor
from crm.services.delivery import deliver_outbox_message
from tests.factories import make_user
from tests.leads import send_lead
from tests.staff import StaffClient


@pytest.fixture
def staff(client):
    return StaffClient(client)


def signed_in(staff, role=Role.advocate, **fields) -> int:
    user = make_user(role, **fields)
    user_id, email = user.id, user.email
    staff.sign_in(email)
    return user_id


def page_of(contact_id: int) -> str:
    return f"/contacts/{contact_id}"


def shown(staff, contact_id: int) -> str:
    """The contact page as the reader sees it (entities read)."""
    return unescape(staff.get(page_of(contact_id)).get_data(as_text=True))


def audited(action: AuditAction) -> list[AuditEvent]:
    db.session.rollback()  # read what the requests committed
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def reread(model, contact_id: int | None = None, **where):
    db.session.rollback()
    query = sa.select(model).filter_by(**where)
    if contact_id is not None:
        query = query.where(model.contact_id == contact_id)
    return db.session.scalars(query.order_by(model.id)).all()


def callback_lead(**overrides) -> int:
    return send_lead(
        FormKind.callback,
        phone=overrides.pop("phone", "+16175550134"),
        details={"best_time": "asap", "message": None},
        **overrides,
    ).id


def test_a_note_goes_on_the_timeline_with_its_author_and_is_audited(app_ctx, staff):
    contact_id = callback_lead()
    advocate_id = signed_in(staff, name="Ada Vocate")

    response = staff.submit(
        page_of(contact_id), {"body": "Spoke with his daughter."}, form_id="note-form"
    )

    assert response.status_code == 303
    assert [n.body for n in reread(Note, contact_id)] == ["Spoke with his daughter."]
    page = shown(staff, contact_id)
    assert "Note added." in page and "Spoke with his daughter." in page
    assert [(a.actor_user_id, a.contact_id) for a in audited(AuditAction.note_added)] == [
        (advocate_id, contact_id)
    ]


def test_an_empty_note_is_refused_and_nothing_is_written(app_ctx, staff):
    contact_id = callback_lead()
    signed_in(staff)

    staff.submit(page_of(contact_id), {"body": "   "}, form_id="note-form")

    assert "Not done: Write something first." in shown(staff, contact_id)
    assert reread(Note, contact_id) == [] and audited(AuditAction.note_added) == []


def test_the_stage_moves_along_the_table_with_a_reason_and_is_audited(app_ctx, staff):
    contact_id = callback_lead()
    advocate_id = signed_in(staff)

    staff.submit(
        page_of(contact_id),
        {"to_stage": "contacted", "reason": "Reached her on the second try."},
        form_id="stage-form",
    )

    changes = reread(StageChange, contact_id)
    assert [(c.from_stage, c.to_stage, c.actor_user_id) for c in changes] == [
        (Stage.new, Stage.contacted, advocate_id)
    ]
    page = shown(staff, contact_id)
    assert "Stage: New → Contacted" in page and "Reached her on the second try." in page
    assert [a.detail["to"] for a in audited(AuditAction.stage_changed)] == ["contacted"]


def test_the_page_offers_only_the_moves_in_the_table(app_ctx, staff):
    contact_id = callback_lead()
    signed_in(staff)

    form_html = staff.get(page_of(contact_id)).get_data(as_text=True)
    options = form_html[form_html.index('id="to_stage"') : form_html.index("</select>")]

    offered = [s for s in Stage if f'value="{s.value}"' in options]
    assert offered == list(stages.allowed_moves(Stage.new))


def test_closing_takes_an_outcome(app_ctx, staff):
    contact_id = callback_lead()
    signed_in(staff)

    staff.submit(
        page_of(contact_id),
        {"to_stage": "closed", "outcome": "not_interested", "reason": "Has a doctor already."},
        form_id="stage-form",
    )

    contact = reread(Contact, id=contact_id)[0]
    assert (contact.stage, contact.close_outcome) == (Stage.closed, CloseOutcome.not_interested)


@pytest.mark.parametrize(
    ("answers", "refusal"),
    [
        ({"to_stage": "new", "reason": "again"}, "A contact cannot move from New to New."),
        ({"to_stage": "closed", "reason": "done"}, "Closing needs an outcome."),
        ({"to_stage": "contacted", "reason": ""}, "Say why the stage changes."),
        ({"reason": "no stage chosen"}, "Choose a stage."),
    ],
)
def test_a_stage_change_outside_the_rules_is_refused_and_changes_nothing(
    app_ctx, staff, answers, refusal
):
    contact_id = callback_lead()
    signed_in(staff)

    response = staff.submit(page_of(contact_id), answers, form_id="stage-form")

    assert response.status_code == 303
    assert f"Not done: {refusal}" in shown(staff, contact_id)
    assert reread(Contact, id=contact_id)[0].stage == Stage.new
    assert reread(StageChange, contact_id) == [] and audited(AuditAction.stage_changed) == []


def test_a_stage_change_from_a_stale_page_does_not_clobber_another_advocates(app_ctx, staff):
    contact_id = callback_lead()
    signed_in(staff)
    form = staff.form(page_of(contact_id), form_id="stage-form")
    other_id = make_user(Role.advocate).id
    stages.change_stage(
        contact_id, stages.StageMove(Stage.attempting, "No answer."), Actor.user(other_id)
    )
    db.session.commit()

    staff.post(form.action, data={**form.values, "to_stage": "contacted", "reason": "Reached."})

    assert "Someone moved this contact to Attempting meanwhile" in shown(staff, contact_id)
    assert reread(Contact, id=contact_id)[0].stage == Stage.attempting
    assert [c.to_stage for c in reread(StageChange, contact_id)] == [Stage.attempting]


def test_do_not_call_cancels_the_open_call_in_the_same_request(app_ctx, staff):
    contact_id = callback_lead()
    advocate_id = signed_in(staff)
    assert [t.status for t in reread(CallTask, contact_id)] == [CallTaskStatus.open]

    staff.submit(page_of(contact_id), {}, form_id="dnc-calls_texts-form")

    assert [t.status for t in reread(CallTask, contact_id)] == [CallTaskStatus.cancelled]
    revocation = reread(ConsentRecord, contact_id)[-1]
    assert (revocation.channel, revocation.granted, revocation.recorded_by_user_id) == (
        ConsentChannel.calls_texts,
        False,
        advocate_id,
    )
    assert revocation.submission_id is None and revocation.ip_address == "127.0.0.1"
    page = shown(staff, contact_id)
    assert "Calls and texts: do not contact" in page and "No open calls." in page
    assert [a.detail["cancelled_call_tasks"] for a in audited(AuditAction.do_not_contact)] == [1]


def test_do_not_email_cancels_queued_commercial_emails_and_suppresses_the_address(app_ctx, staff):
    contact_id = send_lead(
        FormKind.guide, email="rosa@example.com", details={"printed_guide": False}
    ).id
    signed_in(staff)

    staff.submit(page_of(contact_id), {}, form_id="dnc-email-form")

    statuses = {m.kind: m.status for m in reread(OutboxMessage, contact_id)}
    assert statuses == {
        # She asked for the guide itself: it still goes.
        OutboxKind.guide_email: OutboxStatus.pending,
        OutboxKind.guide_check_in: OutboxStatus.cancelled,
        OutboxKind.specialist_offer: OutboxStatus.cancelled,
    }
    cancelled = reread(TimelineEvent, contact_id, kind=TimelineKind.email_cancelled)
    assert sorted(e.detail["email"] for e in cancelled) == ["guide_check_in", "specialist_offer"]
    assert [s.reason for s in reread(EmailSuppression, email="rosa@example.com")] == [
        "staff_do_not_contact"
    ]
    assert "Email: do not contact" in shown(staff, contact_id)
    assert [a.detail["cancelled_emails"] for a in audited(AuditAction.do_not_contact)] == [2]


def test_the_guide_is_sent_again_as_a_new_guide_email(app_ctx, staff):
    contact_id = send_lead(FormKind.guide, email="rosa@example.com").id
    db.session.execute(
        sa.update(OutboxMessage).values(status=OutboxStatus.sent, sent_at=sa.func.now())
    )
    db.session.commit()
    signed_in(staff)

    staff.submit(page_of(contact_id), {}, form_id="resend-guide-form")

    guides = [m for m in reread(OutboxMessage, contact_id) if m.kind == OutboxKind.guide_email]
    assert [g.status for g in guides] == [OutboxStatus.sent, OutboxStatus.pending]
    assert guides[1].submission_id == guides[0].submission_id
    page = shown(staff, contact_id)
    assert "Guide email sent again" in page
    assert [a.detail["outbox_id"] for a in audited(AuditAction.guide_resent)] == [guides[1].id]
    # The relay and the worker deliver it like any other row.
    assert deliver_outbox_message(guides[1].id) == "sent"


@pytest.mark.parametrize(
    ("setup", "refusal"),
    [
        ("no_email", "This contact gave no email address"),
        ("unsubscribed", "They opted out of our emails"),
        ("on_its_way", "A guide email is on its way already."),
    ],
)
def test_the_guide_is_not_sent_again_without_an_address_or_consent(app_ctx, staff, setup, refusal):
    if setup == "no_email":
        contact_id = callback_lead()
    else:
        contact_id = send_lead(FormKind.guide, email="rosa@example.com").id
    if setup == "unsubscribed":
        db.session.add(EmailSuppression(email="rosa@example.com", reason="unsubscribe"))
        db.session.execute(
            sa.update(OutboxMessage).values(status=OutboxStatus.sent, sent_at=sa.func.now())
        )
        db.session.commit()
    before = len(reread(OutboxMessage, contact_id))
    signed_in(staff)

    staff.submit(page_of(contact_id), {}, form_id="resend-guide-form")

    assert f"Not done: {refusal}" in shown(staff, contact_id)
    assert len(reread(OutboxMessage, contact_id)) == before
    assert audited(AuditAction.guide_resent) == []


def test_a_manager_assigns_a_contact_to_an_advocate_and_takes_it_back(app_ctx, staff):
    contact_id = callback_lead()
    advocate_id = make_user(Role.advocate, name="Ada Vocate").id
    signed_in(staff, Role.manager)

    staff.submit(page_of(contact_id), {"assignee": str(advocate_id)}, form_id="assign-form")
    assert reread(Contact, id=contact_id)[0].assigned_user_id == advocate_id
    assert "Assigned to Ada Vocate" in shown(staff, contact_id)

    staff.submit(page_of(contact_id), {"assignee": ""}, form_id="assign-form")
    assert reread(Contact, id=contact_id)[0].assigned_user_id is None
    assert [
        (a.detail["from_user_id"], a.detail["to_user_id"])
        for a in audited(AuditAction.contact_assigned)
    ] == [(None, advocate_id), (advocate_id, None)]


def test_an_advocate_takes_an_unassigned_contact_but_not_someone_elses(app_ctx, staff):
    mine, theirs = callback_lead(), callback_lead(phone="+16175550199", first_name="Jose")
    other_id = make_user(Role.advocate).id
    db.session.execute(
        sa.update(Contact).where(Contact.id == theirs).values(assigned_user_id=other_id)
    )
    db.session.commit()
    advocate_id = signed_in(staff)

    staff.submit(page_of(mine), {}, form_id="take-form")
    taken = staff.post(
        f"/contacts/{theirs}/assign",
        data={"assignee": str(advocate_id), "csrf_token": staff.csrf_token()},
    )

    assert reread(Contact, id=mine)[0].assigned_user_id == advocate_id
    assert taken.status_code == 303
    assert "Someone else has this contact" in shown(staff, theirs)
    assert reread(Contact, id=theirs)[0].assigned_user_id == other_id


@pytest.mark.parametrize("assignee", ["admin", "disabled", "nobody-by-that-id"])
def test_a_manager_assigns_only_to_active_advocates_and_managers(app_ctx, staff, assignee):
    contact_id = callback_lead()
    admin = make_user(Role.admin)
    disabled = make_user(Role.advocate)
    disabled.active = False
    db.session.commit()
    ids = {"admin": admin.id, "disabled": disabled.id, "nobody-by-that-id": 999999}
    signed_in(staff, Role.manager)

    staff.post(
        f"/contacts/{contact_id}/assign",
        data={"assignee": str(ids[assignee]), "csrf_token": staff.csrf_token()},
    )

    assert "Not done: Choose an active advocate or manager." in shown(staff, contact_id)
    assert reread(Contact, id=contact_id)[0].assigned_user_id is None
    assert audited(AuditAction.contact_assigned) == []


def shared_phone_pair() -> tuple[int, int]:
    """Two people on one family phone: the second is linked to the first as a possible duplicate."""
    first = callback_lead(first_name="Maria", email="maria@example.com")
    second = callback_lead(first_name="Jose", email="jose@example.com")
    assert reread(Contact, id=second)[0].possible_duplicate_of_id == first
    return first, second


def test_merging_keeps_a_request_to_be_called_in_spanish(app_ctx, staff):
    survivor = callback_lead(first_name="Maria", email="maria@example.com")
    other = callback_lead(
        first_name="Jose", email="jose@example.com", preferred_language=Language.es
    )
    signed_in(staff)

    staff.submit(page_of(survivor), {}, form_id=f"merge-{other}-form")

    assert reread(Contact, id=survivor)[0].preferred_language == Language.es
    # The calls that moved to the survivor are routed to a Spanish speaker too.
    moved = reread(CallTask, status=CallTaskStatus.open)
    assert {(t.contact_id, t.needs_spanish) for t in moved} == {(survivor, True)}


def test_merging_keeps_every_submission_consent_and_event_and_the_old_id_redirects(app_ctx, staff):
    survivor, other = shared_phone_pair()
    signed_in(staff)
    staff.get(page_of(other))  # an event of the merged record, seen later on the survivor

    staff.submit(page_of(survivor), {}, form_id=f"merge-{other}-form")

    merged = reread(Contact, id=other)[0]
    assert (merged.merged_into_id, merged.possible_duplicate_of_id) == (survivor, None)
    assert (merged.stage, merged.close_outcome) == (Stage.closed, CloseOutcome.duplicate)
    kept = reread(Contact, id=survivor)[0]
    assert (kept.email, kept.first_name) == ("maria@example.com", "Maria")
    assert {t.contact_id for t in reread(CallTask, status=CallTaskStatus.open)} == {survivor}
    response = staff.get(page_of(other))
    assert response.status_code == 302 and response.headers["Location"] == page_of(survivor)
    assert f"Contact #{other} was merged into #{survivor}" in shown(staff, survivor)
    page = shown(staff, survivor)
    assert "jose@example.com" in page  # the merged record's submission
    assert page.count("Callback request —") == 2
    assert f"Contact #{other} merged into this one" in page
    assert f"Merged into contact #{other}" not in page
    assert "Possible duplicates" not in page
    assert sorted(a.contact_id for a in audited(AuditAction.contacts_merged)) == sorted(
        [survivor, other]
    )
    consents = reread(ConsentRecord)
    assert {c.contact_id for c in consents} == {survivor, other}
    # Each consent line names the form it was given on, then the disclosure's version.
    assert page.count("Callback request form, ") == len(consents) == 4


def test_not_the_same_person_clears_the_link_on_both_records(app_ctx, staff):
    first, second = shared_phone_pair()
    signed_in(staff)

    staff.submit(page_of(second), {}, form_id=f"not-duplicate-{first}-form")

    assert [c.possible_duplicate_of_id for c in reread(Contact)] == [None, None]
    for contact_id, other in ((first, second), (second, first)):
        assert f"Not the same person as contact #{other}" in shown(staff, contact_id)
    assert sorted(a.contact_id for a in audited(AuditAction.not_duplicate)) == [first, second]


def test_an_action_without_its_csrf_token_is_refused(app_ctx, staff):
    contact_id = callback_lead()
    signed_in(staff)

    response = staff.post(f"/contacts/{contact_id}/notes", data={"body": "no token"})

    assert response.status_code == 400
    assert reread(Note, contact_id) == []
