"""Who a submit is: one person's phone number must never reveal another person."""

import base64
import re
import zlib
from datetime import UTC, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, OutboxMessage, Submission, TimelineEvent
from crm.models.enums import FormKind, OutboxKind, TimelineKind
from crm.services import capture, delivery
from crm.services.leads import LeadInput, RequestMeta
from tests.forms import CALLBACK, GUIDE

META = RequestMeta("203.0.113.9", "pytest", "https://www.example-advocacy.org/guide")
NEW_YORK = ZoneInfo("America/New_York")

# The first person: a patient whose details must stay hers.
PATIENT = {
    **GUIDE,
    "first_name": "Henrietta",
    "last_name": "Quillfeather",
    "email": "henrietta.quillfeather@example.com",
    "phone": "(617) 555-0134",
    "zip": "98101",
    "diagnosis": "peritoneal",
    "printed_guide": "y",
    "address_line1": "12 Juniper Lane",
    "city": "Seattle",
    "address_state": "WA",
    "address_zip": "98101",
}
# Someone else who types the patient's phone number (by mistake, or to find out about her).
STRANGER = {
    **GUIDE,
    "first_name": "Zora",
    "last_name": "Newcombe",
    "email": "zora.newcombe@example.net",
    "phone": "617.555.0134",
    "zip": "60601",
    "diagnosis": "not_sure",
    "consent_email": "y",
}
# Her diagnosis is never written into anything a visitor reads (the guide's text names every
# type), so the traces are what could identify her: name, address, where she lives.
PATIENT_TRACES = ("Henrietta", "Quillfeather", "quillfeather@", "Juniper", "Seattle", "98101")


def lead(first="Maria", last="Lopez", email=None, phone=None, form=FormKind.guide) -> LeadInput:
    return LeadInput(form=form, first_name=first, last_name=last, email=email, phone_e164=phone)


def contacts() -> list[Contact]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Contact).order_by(Contact.id)))


def test_the_same_email_is_one_contact(app_ctx):
    capture.submit_lead(lead(email="maria@example.com"), META, None)
    capture.submit_lead(lead("M.", "Lopez-Garcia", email="maria@example.com"), META, None)

    (contact,) = contacts()
    assert contact.submission_count == 2


def test_the_same_phone_and_the_same_name_is_one_contact(app_ctx):
    capture.submit_lead(lead("María", "López", phone="+16175550134"), META, None)
    capture.submit_lead(lead("maria", "LOPEZ ", phone="+16175550134"), META, None)

    (contact,) = contacts()
    assert contact.submission_count == 2
    assert contact.first_name == "María"


def test_the_same_phone_with_another_name_is_another_contact_linked_as_a_possible_duplicate(
    app_ctx,
):
    first = capture.submit_lead(lead("Maria", "Lopez", phone="+16175550134"), META, None)
    second = capture.submit_lead(lead("Rosa", "Lopez", phone="+16175550134"), META, None)

    assert second.is_new_contact
    patient, caregiver = contacts()
    assert (patient.first_name, caregiver.first_name) == ("Maria", "Rosa")
    assert caregiver.possible_duplicate_of_id == patient.id
    events = db.session.execute(
        sa.select(TimelineEvent.contact_id, TimelineEvent.detail).where(
            TimelineEvent.kind == TimelineKind.possible_duplicate
        )
    ).all()
    assert sorted((row.contact_id, row.detail["other_contact_id"]) for row in events) == [
        (first.contact_id, second.contact_id),
        (second.contact_id, first.contact_id),
    ]


def test_a_possible_duplicate_is_linked_once_however_often_they_come_back(app_ctx):
    capture.submit_lead(lead("Maria", "Lopez", phone="+16175550134"), META, None)
    for _ in range(3):
        capture.submit_lead(lead("Rosa", "Lopez", phone="+16175550134"), META, None)

    assert len(contacts()) == 2
    linked = db.session.scalars(
        sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.possible_duplicate)
    ).all()
    assert len(linked) == 2


def test_a_submit_never_changes_the_email_or_phone_of_the_contact_it_matched(app_ctx):
    capture.submit_lead(lead(email="maria@example.com"), META, None)
    capture.submit_lead(lead(phone="+16175550134"), META, None)
    capture.submit_lead(lead(email="maria@example.com", phone="+13125550187"), META, None)

    by_email, by_phone = contacts()
    assert (by_email.email, by_email.phone_e164) == ("maria@example.com", None)
    assert (by_phone.email, by_phone.phone_e164) == (None, "+16175550134")
    # What was sent is kept on the submission for staff to see.
    phones = [fields.get("phone") for fields in db.session.scalars(sa.select(Submission.fields))]
    assert "+13125550187" in phones


def test_an_email_and_a_phone_of_two_contacts_link_them(app_ctx):
    capture.submit_lead(lead(email="maria@example.com"), META, None)
    capture.submit_lead(lead("Rosa", phone="+16175550134"), META, None)
    capture.submit_lead(lead(email="maria@example.com", phone="+16175550134"), META, None)

    maria, rosa = contacts()
    assert maria.possible_duplicate_of_id == rosa.id
    assert maria.submission_count == 2


def noon_after(moment):
    local = moment.astimezone(NEW_YORK)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return (noon if noon >= local else noon + timedelta(days=1)).astimezone(UTC)


def deliver_everything_for(email: str) -> None:
    """Send every email planned for this address, check-in and offer included."""
    db.session.expire_all()
    # The answers are sealed (crm/crypto.py): the address is compared once they are read.
    rows = [
        row
        for row, fields in db.session.execute(
            sa.select(OutboxMessage, Submission.fields).join(Submission)
        ).all()
        if fields.get("email") == email
    ]
    assert rows
    for row in rows:
        assert delivery.deliver_outbox_message(row.id, noon_after(row.due_at)) == "sent"


def pdf_text(data: bytes) -> str:
    """The text drawn on a reportlab PDF's pages (their content streams, inflated)."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\s*endstream", data, re.S):
        if stream.rstrip().endswith(b"~>"):  # reportlab's ASCII85 wrapping
            stream = base64.a85decode(stream.strip().removeprefix(b"<~").removesuffix(b"~>"))
        try:
            chunks.append(zlib.decompress(stream))
        except zlib.error:
            chunks.append(stream)
    return b"\n".join(chunks).decode("latin-1")


@pytest.mark.parametrize("delivery_mode", ["link", "attachment"])
def test_a_stranger_who_types_a_patients_phone_learns_nothing_about_her(
    forms, client, app_ctx, smtp_sink, config_override, delivery_mode
):
    config_override(GUIDE_DELIVERY=delivery_mode)
    assert forms.submit("/guide", PATIENT).status_code == 303
    deliver_everything_for(PATIENT["email"])
    patient_mail = len(smtp_sink.received())

    thanks = forms.submit("/guide", STRANGER, follow_redirects=True)
    deliver_everything_for(STRANGER["email"])

    stranger_mail = smtp_sink.received()[patient_mail:]
    assert len(stranger_mail) == 3  # guide, day-2 check-in, day-7 offer
    texts, pdfs = [thanks.get_data(as_text=True)], []
    for message in stranger_mail:
        assert message["To"].addresses[0].addr_spec == STRANGER["email"]
        assert message["To"].addresses[0].display_name == "Zora Newcombe"
        texts.append(str(message["To"]))
        for part in message.walk():
            if part.get_content_type() == "application/pdf":
                pdfs.append(pdf_text(part.get_content()))
            elif part.get_content_maintype() == "text":
                texts.append(part.get_content())
    for url in set(re.findall(r"https?://\S+/guide/download/[\w.\-]+", "\n".join(texts))):
        download = client.get(urlsplit(url).path)
        assert download.status_code == 200
        pdfs.append(pdf_text(download.data))
    assert pdfs, "the stranger got the guide, by link or attached"
    assert all("Zora" in pdf for pdf in pdfs)
    everything = "\n".join(texts + pdfs)
    assert "Dear Zora" in everything
    for trace in PATIENT_TRACES:
        assert trace not in everything, trace
    patient, stranger = contacts()
    assert stranger.possible_duplicate_of_id == patient.id
    assert patient.email == PATIENT["email"]


def test_a_callback_by_a_stranger_on_a_patients_phone_is_the_strangers_own_callback(forms, app_ctx):
    forms.submit("/callback", {**CALLBACK, "first_name": "Henrietta", "last_name": "Q"})
    forms.submit("/callback", {**CALLBACK, "first_name": "Zora", "last_name": "N"})

    patient, stranger = contacts()
    tasks = (
        db.session.execute(sa.text("SELECT contact_id FROM call_tasks ORDER BY id")).scalars().all()
    )
    assert tasks == [patient.id, stranger.id]


def test_a_phone_only_request_sends_no_email_to_the_matched_contacts_address(forms, app_ctx):
    forms.submit("/guide", {**PATIENT, "printed_guide": None})
    forms.submit(
        "/callback",
        {
            **CALLBACK,
            "first_name": "Henrietta",
            "last_name": "Quillfeather",
            "phone": PATIENT["phone"],
        },
    )

    (contact,) = contacts()
    assert contact.submission_count == 2
    kinds = db.session.scalars(sa.select(OutboxMessage.kind)).all()
    assert OutboxKind.guide_email in kinds
    assert OutboxKind.callback_confirmation not in kinds
