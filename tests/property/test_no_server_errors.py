"""No input a visitor can send produces a 500 (property-based tests over every field).

Each example posts to a freshly opened form page, so on a thank-you (303) exactly one row must
have been stored (the lead or the suspected spam) and on any other answer none at all.
"""

import json
import logging
from dataclasses import dataclass
from urllib.parse import quote, unquote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from wtforms import HiddenField
from wtforms.fields.core import UnboundField

from crm.extensions import db
from crm.forms.public import PUBLIC_FORMS
from crm.models import Contact, Submission, SuspectedSpam
from crm.models.enums import FormKind
from crm.services.api_keys import create_api_key, revoke_api_key
from tests.forms import CALLBACK, GUIDE, SPECIALIST

PRINTED_GUIDE = {
    **GUIDE,
    "printed_guide": "y",
    "address_line1": "1 Main St",
    "city": "Boston",
    "address_state": "MA",
    "address_zip": "02110",
}
# The valid answers each example starts from before changing, dropping and adding fields.
SAMPLES = {
    FormKind.guide: [GUIDE, PRINTED_GUIDE],
    FormKind.callback: [CALLBACK],
    FormKind.specialist_match: [SPECIALIST],
}
PAGES = {
    "/guide": FormKind.guide,
    "/callback": FormKind.callback,
    "/specialist-match": FormKind.specialist_match,
    # The embedded forms skip the session CSRF check for their signed token: fuzzed too.
    "/embed/guide": FormKind.guide,
    "/embed/callback": FormKind.callback,
    "/embed/specialist-match": FormKind.specialist_match,
}
FORM_STATUSES = {200, 303, 413, 422}
API_STATUSES = {200, 201, 400, 401, 404, 409, 413, 415, 422}

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def field_names(form_cls, hidden: bool) -> list[str]:
    """The form's field names: the ones a visitor fills in, or the hidden ones the page fills."""
    names = []
    for name in dir(form_cls):
        field = getattr(form_cls, name)
        if isinstance(field, UnboundField) and issubclass(field.field_class, HiddenField) == hidden:
            names.append(name)
    return sorted(names)


VISIBLE = {kind: field_names(form_cls, hidden=False) for kind, form_cls in PUBLIC_FORMS.items()}
HIDDEN = [*field_names(PUBLIC_FORMS[FormKind.guide], hidden=True), "csrf_token"]

# Any text a browser can send (surrogates cannot be encoded), short, long or made of controls.
any_char = st.characters(exclude_categories=("Cs",))
any_text = st.text(any_char, max_size=300)
control_text = st.text(
    st.characters(max_codepoint=0x1F) | st.sampled_from("\x7f\x85\u2028\u200b\ufeff"),
    max_size=20,
)
long_text = st.builds(lambda char, size: char * size, any_char, st.integers(1_000, 25_000))
field_value = st.one_of(
    any_text, control_text, long_text, st.just(""), st.lists(any_text, min_size=2, max_size=4)
)
hidden_value = st.one_of(field_value, st.none())  # None: the field is left out


@dataclass(frozen=True)
class Rows:
    contacts: int
    submissions: int
    spam: int


def rows(app) -> Rows:
    with app.app_context():

        def count(model):
            return db.session.scalar(sa.select(sa.func.count()).select_from(model))

        return Rows(count(Contact), count(Submission), count(SuspectedSpam))


def assert_stored_exactly_what_the_visitor_was_told(status, before: Rows, after: Rows, thanked):
    """A thank-you means one stored row (lead or spam); anything else means nothing stored."""
    new_contacts = after.contacts - before.contacts
    new_rows = (after.submissions - before.submissions) + (after.spam - before.spam)
    if status in thanked:
        assert new_rows == 1, (status, before, after)
        assert new_contacts <= after.submissions - before.submissions
    else:
        assert (new_rows, new_contacts) == (0, 0), (status, before, after)


def errors_logged(caplog) -> list[str]:
    """What was logged at ERROR or above: a database error, an unhandled exception."""
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.fixture
def no_rate_limits(config_override):
    config_override(SUBMIT_LIMIT_PER_IP="100000/hour", SUBMIT_LIMIT_PER_CONTACT="100000/hour")


@pytest.fixture
def revoked_api_key(app) -> str:
    with app.app_context():
        api_key, key = create_api_key("former-client")
        revoke_api_key(api_key.prefix)
        db.session.remove()
    return key


@st.composite
def visitor_answers(draw, kind: FormKind) -> tuple[dict, dict]:
    """The sample answers with any fields changed, dropped or added, and hidden fields tampered."""
    visible = VISIBLE[kind]
    answers = dict(draw(st.sampled_from(SAMPLES[kind])))
    for name in draw(st.sets(st.sampled_from(visible))):
        answers.pop(name, None)
    answers.update(draw(st.dictionaries(st.sampled_from(visible), field_value, max_size=6)))
    known = set(visible) | set(HIDDEN)
    unknown_name = st.text(any_char, min_size=1, max_size=40).filter(lambda n: n not in known)
    answers.update(draw(st.dictionaries(unknown_name, field_value, max_size=3)))
    tampered = draw(st.dictionaries(st.sampled_from(HIDDEN), hidden_value, max_size=4))
    return answers, tampered


@pytest.mark.parametrize("url", list(PAGES))
def test_no_form_input_produces_a_server_error(url, app, forms, client, no_rate_limits, caplog):
    @FUZZ
    @given(visit=visitor_answers(PAGES[url]))
    def post_anything(visit):
        answers, tampered = visit
        page = forms.open(url)
        body = {**page.defaults, **answers}
        for name, value in tampered.items():
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value

        before = rows(app)
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            response = client.post(page.action, data=body)
        after = rows(app)

        assert response.status_code in FORM_STATUSES
        assert errors_logged(caplog) == []
        assert_stored_exactly_what_the_visitor_was_told(
            response.status_code, before, after, thanked={303}
        )

    post_anything()


# What a WSGI server can pass in a header: any Latin-1 text.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=250)
any_authorization = st.one_of(
    header_text,
    header_text.map(lambda text: "Bearer " + text),
    st.sampled_from(
        [
            "",
            "Bearer",
            "bearer ",
            "Bearer  ",
            "Basic dXNlcjpwYXNz",
            "Bearer crm_00000000_" + "A" * 43,
        ]
    ),
)

# Any JSON document, and objects with the forms' own field names holding any JSON value.
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), any_text, long_text
)
json_value = st.recursive(
    json_scalar,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
)
NASTY_BODIES = [
    b"",
    b"null",
    b'{"first_name": "Maria"',
    b"\xff\xfe\x00{",
    b'{"first_name": ' + b"9" * 5_000 + b"}",
    b'{"first_name": "\\ud800"}',
    b'{"first_name": NaN, "email": Infinity}',
]
WRONG_CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/xml",
    "application/json; charset=latin-1",
    "application/vnd.api+json",
]


@st.composite
def api_request(draw) -> tuple[str, dict]:
    """A path and the keyword arguments of one POST to the submissions API."""
    slug = draw(st.sampled_from([kind.value for kind in PUBLIC_FORMS]))
    if draw(st.integers(0, 9)) == 0:
        slug = draw(st.text(any_char, max_size=20))
    # A chat is no API form: its slug answers 404, like any other unknown one.
    kind = FormKind.from_value(slug)
    kind = kind if kind in PUBLIC_FORMS else FormKind.guide
    fields = VISIBLE[kind]
    real_fields_object = st.builds(
        lambda sample, changed, dropped: {
            **{k: v for k, v in sample.items() if k not in dropped},
            **changed,
        },
        st.sampled_from(SAMPLES[kind]),
        st.dictionaries(st.sampled_from(fields), json_value, max_size=4),
        st.sets(st.sampled_from(fields), max_size=3),
    )
    shape = draw(st.sampled_from(["object", "any json", "bytes", "wrong type"]))
    if shape == "object":
        kwargs = {"json": draw(real_fields_object)}
    elif shape == "any json":
        kwargs = {"json": draw(json_value)}
    elif shape == "bytes":
        raw = draw(st.sampled_from(NASTY_BODIES) | st.binary(max_size=500))
        kwargs = {"data": raw, "content_type": "application/json"}
    else:
        kwargs = {
            "data": json.dumps(draw(real_fields_object)),
            "content_type": draw(st.sampled_from(WRONG_CONTENT_TYPES)),
        }
    headers = draw(
        st.fixed_dictionaries({}, optional={"Idempotency-Key": header_text, "Origin": header_text})
    )
    # Mostly the live key, so that the body gets looked at; the test puts the real one in.
    credential = draw(st.sampled_from(["live"] * 6 + ["revoked", "none"]) | any_authorization)
    path = f"/api/v1/submissions/{quote(slug, safe='')}"
    return path, {**kwargs, "headers": headers}, credential


@settings(FUZZ, max_examples=60)
@given(call=api_request())
def test_no_api_input_produces_a_server_error(
    call, app, client, api_key, revoked_api_key, no_rate_limits, caplog
):
    path, kwargs, credential = call
    sent = {"live": f"Bearer {api_key}", "revoked": f"Bearer {revoked_api_key}", "none": None}
    authorization = sent.get(credential, credential)
    if authorization is not None:
        kwargs["headers"]["Authorization"] = authorization

    before = rows(app)
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        response = client.post(path, **kwargs)
    after = rows(app)

    event(f"answered {response.status_code}")
    assert errors_logged(caplog) == []
    if response.status_code == 308:
        # Werkzeug's routing answers a doubled slash in the path with a redirect to the merged one.
        assert "//" in unquote(path)
        assert rows(app) == before
        return
    assert response.status_code in API_STATUSES
    assert response.is_json
    if credential != "live":  # 404 here is routing's own, for a slug holding a "/"
        assert response.status_code in {401, 404}, (credential, response.status_code)
    # 200 answers a repeated Idempotency-Key: the submission was stored the first time.
    assert_stored_exactly_what_the_visitor_was_told(
        response.status_code, before, after, thanked={201}
    )


@st.composite
def spoiled(draw, key: str) -> str:
    """The live key cut short, lengthened, with one character changed, or in another case."""
    how = draw(st.sampled_from(["cut", "longer", "changed", "case", "prefix only"]))
    if how == "cut":
        return key[: draw(st.integers(0, len(key) - 1))]
    if how == "longer":
        return key + draw(
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), min_size=1)
        )
    if how == "changed":
        at = draw(st.integers(0, len(key) - 1))
        other = draw(
            st.characters(min_codepoint=0x21, max_codepoint=0x7E).filter(lambda c: c != key[at])
        )
        return key[:at] + other + key[at + 1 :]
    if how == "case":
        return key.upper()
    return key[: len("crm_0123abcd")]


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_any_authorization_but_a_live_key_answers_401_and_stores_nothing(
    data, app, client, api_key, revoked_api_key, no_rate_limits
):
    authorization = data.draw(
        any_authorization
        | spoiled(api_key).map(lambda key: "Bearer " + key)
        | st.just(f"Bearer {revoked_api_key}"),
        label="Authorization",
    )
    before = rows(app)
    response = client.post(
        "/api/v1/submissions/callback",
        json={**CALLBACK, "consent_calls": True},
        headers={"Authorization": authorization},
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization" in response.get_json()["errors"]
    assert rows(app) == before


@pytest.mark.parametrize(
    "body",
    [b"[" * 30_000 + b"]" * 30_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000],
    ids=["nested arrays", "nested objects"],
)
def test_deeply_nested_json_is_refused_not_a_server_error(body, app, api_client, no_rate_limits):
    before = rows(app)
    response = api_client.post(
        "/api/v1/submissions/guide", data=body, content_type="application/json"
    )

    assert response.status_code in {400, 413, 422}
    assert rows(app) == before
