"""Stored XSS: whatever a visitor or staff member typed reaches the contact page as text only."""

from urllib.parse import urlencode

import pytest
from markupsafe import escape

from crm.models.enums import ConsentChannel, FormKind, Role
from crm.services.leads import RequestMeta
from tests.factories import make_user
from tests.forms import CALLBACK, FormClient
from tests.leads import send_lead
from tests.staff import StaffClient


def script(field: str) -> str:
    return f"<script>alert('{field}')</script>"


def image(field: str) -> str:
    return f'"><img src=x onerror=alert("{field}")>'


ATTRIBUTION = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid")


@pytest.fixture
def hostile_contact_id(app_ctx, client):
    """One person whose every free-text answer, on three forms, carries markup."""
    email = "hostile@example.com"
    send_lead(
        FormKind.guide,
        first_name=f"Ann{script('first_name')}",
        last_name=f"Lee{image('last_name')}",
        email=email,
        details={
            "printed_guide": True,
            "mailing_address": {
                "line1": script("line1"),
                "line2": image("line2"),
                "city": script("city"),
                "state": "MA",
                "zip": "02110",
            },
        },
        attribution={
            **{name: script(name) for name in ATTRIBUTION},
            "landing_page": image("landing_page"),
            "referrer": image("referrer"),
        },
        meta=RequestMeta("203.0.113.9", script("user_agent"), image("page_url")),
    )
    send_lead(
        FormKind.specialist_match,
        first_name="Ann",
        email=email,
        details={"cancer_stage": "2", "current_treatment": script("current_treatment")},
        consents={ConsentChannel.email: True},
    )
    # Through the public form too: the message and the campaign parameters of the page's URL.
    forms = FormClient(client)
    url = "/callback?" + urlencode({"utm_source": image("form_utm_source")})
    page = forms.open(url)
    response = forms.submit(
        url, {**CALLBACK, "email": email, "message": script("message")}, page=page
    )
    assert response.status_code == 303
    return send_lead(FormKind.guide, first_name="Ann", email=email).id


TYPED = [
    script("first_name"),
    image("last_name"),
    script("line1"),
    image("line2"),
    script("city"),
    *(script(name) for name in ATTRIBUTION),
    image("landing_page"),
    image("referrer"),
    script("user_agent"),
    image("page_url"),
    script("current_treatment"),
    script("message"),
    image("form_utm_source"),
    script("note"),
    image("reason"),
]


def test_every_typed_field_renders_escaped_and_never_as_markup(app_ctx, client, hostile_contact_id):
    staff = StaffClient(client)
    staff.sign_in(make_user(Role.advocate).email)
    url = f"/contacts/{hostile_contact_id}"
    staff.submit(url, {"body": script("note")}, form_id="note-form")
    staff.submit(url, {"to_stage": "attempting", "reason": image("reason")}, form_id="stage-form")

    html = staff.get(url).get_data(as_text=True)

    assert "<script" not in html.lower() and "<img" not in html.lower()
    missing = [text for text in TYPED if str(escape(text)) not in html]
    assert missing == []
