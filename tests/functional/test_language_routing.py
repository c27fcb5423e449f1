"""Spanish speakers go first to advocates with the Spanish skill, while one is on shift."""

from datetime import timedelta

from crm.extensions import db
from crm.models import Contact
from crm.models.enums import CallReason, FormKind, Language
from tests.calls import due_call
from tests.factories import make_contact
from tests.functional.test_call_queue import NOW, advocate, claimed_task

HOUR = timedelta(hours=1)


def spanish_speaker_due(hours_ago: int) -> int:
    return due_call(
        NOW - hours_ago * HOUR, reason=CallReason.retry, preferred_language=Language.es
    )[1]


def english_speaker_due(hours_ago: int) -> int:
    return due_call(NOW - hours_ago * HOUR, reason=CallReason.retry)[1]


def test_a_spanish_speaker_waits_for_the_spanish_speaking_advocate_on_shift(app_ctx):
    spanish = spanish_speaker_due(3)  # the oldest call: anyone would take it first
    english = english_speaker_due(1)
    anyone, speaks_spanish = advocate(), advocate(skills=["spanish"])

    assert claimed_task(anyone) == english
    assert claimed_task(speaks_spanish) == spanish


def test_the_spanish_speaking_advocate_gets_spanish_speakers_before_older_calls(app_ctx):
    english_speaker_due(3)
    spanish = spanish_speaker_due(1)

    assert claimed_task(advocate(skills=["spanish"])) == spanish


def test_with_no_spanish_speaking_advocate_on_shift_anyone_calls_a_spanish_speaker(app_ctx):
    spanish = spanish_speaker_due(3)
    english_speaker_due(1)
    advocate(skills=["spanish"], working_hours="06:00-07:00")  # off shift at noon

    assert claimed_task(advocate()) == spanish


def test_speaking_spanish_is_the_skill_not_the_language_list(app_ctx):
    # The one rule (crm/services/queue/routing.py): "es" among a user's languages routes nothing.
    spanish = spanish_speaker_due(3)
    english_speaker_due(1)
    advocate(languages=["en", "es"])  # on shift, but without the Spanish skill

    assert claimed_task(advocate()) == spanish


def test_a_spanish_speaking_veteran_is_not_left_waiting_between_two_skilled_advocates(app_ctx):
    veteran = due_call(
        NOW - HOUR, reason=CallReason.retry, is_veteran=True, preferred_language=Language.es
    )[1]
    english_speaker_due(3)
    advocate(skills=["va_benefits"])  # on shift: an unskilled advocate leaves veterans to them
    speaks_spanish = advocate(skills=["spanish"])  # and Spanish speakers to this one

    assert claimed_task(advocate()) != veteran
    assert claimed_task(speaks_spanish) == veteran


def test_a_caller_who_comes_back_asking_for_spanish_waits_for_the_spanish_speaker(app_ctx):
    contact_id, task = due_call(NOW - 3 * HOUR, reason=CallReason.retry)
    english = english_speaker_due(1)
    contact = db.session.get(Contact, contact_id)
    # The open call follows the contact's new answer (the task's copy, kept by a trigger).
    make_contact(
        FormKind.guide,
        email=contact.email,
        phone=contact.phone_e164,  # and agrees to calls again
        preferred_language=Language.es,
    )
    speaks_spanish = advocate(skills=["spanish"])

    assert claimed_task(advocate()) == english
    assert claimed_task(speaks_spanish) == task
