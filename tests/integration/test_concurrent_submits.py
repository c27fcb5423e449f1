"""Submits racing each other on PostgreSQL: no lead lost, none doubled."""

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, OutboxMessage, Submission
from crm.models.enums import OutboxKind
from tests.forms import CALLBACK, GUIDE, SPECIALIST, FormClient

pytestmark = pytest.mark.postgres_only

THREADS = 8
JOIN_TIMEOUT = 60
CONFIRMATIONS = (
    OutboxKind.guide_email,
    OutboxKind.callback_confirmation,
    OutboxKind.specialist_confirmation,
)


@pytest.fixture(autouse=True)
def _no_rate_limits_in_the_way(config_override):
    config_override(SUBMIT_LIMIT_PER_IP="100000/hour", SUBMIT_LIMIT_PER_CONTACT="100000/hour")


def all_at_once(work: Callable[[int], object]) -> list:
    """Run work(0..THREADS-1) in threads released together by a barrier; return the results."""
    barrier = threading.Barrier(THREADS, timeout=JOIN_TIMEOUT)
    results: list = [None] * THREADS
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as error:  # re-raised in the test thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a submit hung"
    if errors:
        raise errors[0]
    return results


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def immediate_emails_per_submission() -> list[int]:
    """How many confirmation (first) emails each stored submission has planned."""
    planned = sa.func.count(OutboxMessage.id).filter(OutboxMessage.kind.in_(CONFIRMATIONS))
    query = (
        sa.select(planned)
        .select_from(Submission)
        .outerjoin(OutboxMessage, OutboxMessage.submission_id == Submission.id)
        .group_by(Submission.id)
    )
    return list(db.session.scalars(query))


# These tests push no app context around the requests: each request in each thread pushes its
# own, as in production, so that no two requests share `g` (and its cached CSRF token).


def submit_eight_pages_at_once_as_one_new_person(app) -> list[int]:
    """Open eight form pages (guide and specialist match, one email), then send them together."""
    specialist = {**SPECIALIST, "email": GUIDE["email"]}
    visits = []
    for index in range(THREADS):
        url, answers = ("/guide", GUIDE) if index % 2 == 0 else ("/specialist-match", specialist)
        forms = FormClient(app.test_client())
        visits.append((forms, url, answers, forms.open(url)))

    def submit(index: int):
        forms, url, answers, page = visits[index]
        return forms.submit(url, answers, page=page).status_code

    return all_at_once(submit)


def test_one_new_person_submitting_eight_pages_at_once_is_one_contact_with_eight_submissions(
    app,
):
    statuses = submit_eight_pages_at_once_as_one_new_person(app)

    assert statuses == [303] * THREADS
    with app.app_context():
        assert count(Contact) == 1
        assert count(Submission) == THREADS
        assert immediate_emails_per_submission() == [1] * THREADS
        contact = db.session.scalar(sa.select(Contact))
        assert contact.email == "maria.lopez@example.com"
        assert {s.contact_id for s in db.session.scalars(sa.select(Submission))} == {contact.id}
        reengagements = db.session.scalar(
            sa.select(sa.func.count()).where(Submission.is_reengagement.is_(True))
        )
        assert reengagements == THREADS - 1


def test_a_contacts_submission_count_counts_every_concurrent_submit(app):
    assert submit_eight_pages_at_once_as_one_new_person(app) == [303] * THREADS

    with app.app_context():
        contact = db.session.scalar(sa.select(Contact))
        assert contact.submission_count == count(Submission) == THREADS


def test_eight_phone_only_callbacks_at_once_by_one_person_are_one_contact(app):
    # No email, so no unique index to lose a race on: the lock on the number orders them.
    visits = []
    for _ in range(THREADS):
        forms = FormClient(app.test_client())
        visits.append((forms, forms.open("/callback")))

    def submit(index: int):
        forms, page = visits[index]
        return forms.submit("/callback", CALLBACK, page=page).status_code

    assert all_at_once(submit) == [303] * THREADS
    with app.app_context():
        assert count(Contact) == 1
        assert count(Submission) == THREADS


def test_eight_people_sharing_one_phone_at_once_are_eight_linked_contacts(app):
    visits = []
    for index in range(THREADS):
        forms = FormClient(app.test_client())
        answers = {**CALLBACK, "first_name": f"Relative{'abcdefgh'[index]}"}
        visits.append((forms, answers, forms.open("/callback")))

    def submit(index: int):
        forms, answers, page = visits[index]
        return forms.submit("/callback", answers, page=page).status_code

    assert all_at_once(submit) == [303] * THREADS
    with app.app_context():
        contacts = db.session.scalars(sa.select(Contact).order_by(Contact.id)).all()
        assert len(contacts) == THREADS
        first = contacts[0]
        assert all(c.possible_duplicate_of_id == first.id for c in contacts[1:])


def test_a_form_page_sent_eight_times_at_once_is_one_submission(app):
    # A visitor double-clicking: one page (one form token), one session cookie, many posts.
    first = app.test_client()
    page = FormClient(first).open("/callback")
    session_cookie = first.get_cookie("session")
    clients = []
    for _ in range(THREADS):
        client = app.test_client()
        client.set_cookie("session", session_cookie.value)
        clients.append(FormClient(client))

    def submit(index: int):
        return clients[index].submit("/callback", CALLBACK, page=page)

    responses = all_at_once(submit)

    assert [r.status_code for r in responses] == [303] * THREADS
    assert all("/thank-you/" in r.location for r in responses)
    # The signed link carries a timestamp; what the visitor sees must be the same page.
    thank_you_pages = {first.get(r.location).get_data(as_text=True) for r in responses}
    assert len(thank_you_pages) == 1
    with app.app_context():
        assert count(Submission) == 1
        assert count(Contact) == 1
        assert db.session.scalar(sa.select(Contact.submission_count)) == 1


def test_the_api_called_eight_times_at_once_with_one_idempotency_key_stores_one_submission(
    app, api_key
):
    body = {**GUIDE, "interests": ["treatment"], "consent_email": True}
    clients = [app.test_client() for _ in range(THREADS)]
    headers = {"Idempotency-Key": "site-retry-5d1c", "Authorization": f"Bearer {api_key}"}

    def submit(index: int):
        return clients[index].post("/api/v1/submissions/guide", json=body, headers=headers)

    responses = all_at_once(submit)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert len({r.get_json()["id"] for r in responses}) == 1
    with app.app_context():
        assert count(Submission) == 1
        assert immediate_emails_per_submission() == [1]
        assert db.session.scalar(sa.select(Submission.public_id)) == responses[0].get_json()["id"]
