"""The language a visitor wants to be called in: asked by every form and the API, kept."""

import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, Submission
from crm.models.enums import Language, Role
from tests.factories import make_user
from tests.forms import CALLBACK, GUIDE, SPECIALIST
from tests.staff import StaffClient

FORM_PAGES = [("/guide", GUIDE), ("/callback", CALLBACK), ("/specialist-match", SPECIALIST)]


def the_contact() -> Contact:
    return db.session.scalar(sa.select(Contact))


@pytest.mark.parametrize(("url", "answers"), FORM_PAGES)
def test_every_form_asks_for_the_call_language_and_starts_on_english(forms, url, answers):
    page = forms.client.get(url).get_data(as_text=True)

    assert "Preferred language for calls" in page
    assert ">English<" in page and ">Español<" in page
    assert forms.open(url).defaults["preferred_language"] == "en"


@pytest.mark.parametrize(("url", "answers"), FORM_PAGES)
def test_a_visitor_who_chooses_spanish_is_kept_as_a_spanish_speaker(forms, app_ctx, url, answers):
    assert forms.submit(url, {**answers, "preferred_language": "es"}).status_code == 303

    assert the_contact().preferred_language == Language.es
    assert db.session.scalar(sa.select(Submission)).fields["preferred_language"] == "es"


def test_a_visitor_who_leaves_the_default_is_called_in_english(forms, app_ctx):
    assert forms.submit("/guide", GUIDE).status_code == 303

    assert the_contact().preferred_language == Language.en


def test_a_form_sent_back_with_an_error_keeps_the_chosen_language(forms, app_ctx):
    response = forms.submit("/callback", {**CALLBACK, "phone": "555", "preferred_language": "es"})

    assert response.status_code == 422
    kept = forms.page_from("/callback", response.get_data(as_text=True)).defaults
    assert kept["preferred_language"] == "es"


def test_a_language_the_form_does_not_offer_is_refused(forms, app_ctx):
    response = forms.submit("/guide", {**GUIDE, "preferred_language": "fr"})

    assert response.status_code == 422
    assert the_contact() is None


def test_a_later_submit_in_spanish_switches_the_contact_and_english_does_not_switch_back(
    forms, app_ctx
):
    assert forms.submit("/guide", GUIDE).status_code == 303
    again = {**CALLBACK, "phone": GUIDE["phone"], "email": GUIDE["email"]}

    assert forms.submit("/callback", {**again, "preferred_language": "es"}).status_code == 303
    assert the_contact().preferred_language == Language.es

    # English is also what a visitor who skips the question sends: not a reason to switch back.
    again = {**SPECIALIST, "email": GUIDE["email"]}
    assert forms.submit("/specialist-match", again).status_code == 303
    db.session.expire_all()
    assert the_contact().preferred_language == Language.es


def test_the_api_takes_the_same_field_and_defaults_to_english(api_client, app_ctx):
    spanish = {
        "first_name": "Sofía",
        "last_name": "Martínez",
        "phone": "312-555-0190",
        "consent_calls": True,
        "preferred_language": "es",
    }
    english = {**spanish, "phone": "312-555-0191", "first_name": "Ana"}
    del english["preferred_language"]

    for body in (spanish, english):
        assert api_client.post("/api/v1/submissions/callback", json=body).status_code == 201
    refused = api_client.post(
        "/api/v1/submissions/callback", json={**spanish, "preferred_language": "Spanish"}
    )

    languages = dict(
        db.session.execute(sa.select(Contact.first_name, Contact.preferred_language)).all()
    )
    assert languages == {"Sofía": Language.es, "Ana": Language.en}
    assert refused.status_code == 422 and "preferred_language" in refused.get_json()["errors"]


@pytest.mark.parametrize("form", ["guide", "callback", "specialist_match"])
def test_the_api_description_lists_the_languages_and_the_default(client, form):
    document = client.get("/api/v1/openapi.json").get_json()

    schema = document["components"]["schemas"][form]
    field = schema["properties"]["preferred_language"]
    assert field["enum"] == ["en", "es"] and field["default"] == "en"
    assert "preferred_language" not in schema["required"]


def test_the_contact_page_shows_the_call_language(forms, app_ctx):
    forms.submit("/callback", {**CALLBACK, "preferred_language": "es"})
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(make_user(Role.advocate).email)

    page = staff.get(f"/contacts/{the_contact().id}").get_data(as_text=True)

    assert re.search(r'id="preferred-language">Español', page)
    assert "Preferred language for calls" in page  # the submission's own answer too
