"""Every response's security headers (CSP with nonces, HSTS, caching) and production cookies."""

import re
from pathlib import Path

import pytest

from crm.models.enums import Role
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.forms import CALLBACK
from tests.staff import StaffClient, forms_on
from tests.unit.test_config import GOOD_PRODUCTION

TEMPLATES = Path(__file__).resolve().parents[2] / "crm" / "templates"


def policy_of(response) -> dict[str, str]:
    directives = response.headers["Content-Security-Policy"].split(";")
    return {d.split()[0]: " ".join(d.split()[1:]) for d in (d.strip() for d in directives) if d}


def nonce_of(response) -> str:
    (nonce,) = re.findall(r"'nonce-([^']+)'", policy_of(response)["script-src"])
    return nonce


def test_every_kind_of_page_has_a_strict_policy(client, app_ctx):
    pages = ["/guide", "/embed/guide", "/chat", "/login", "/no-such-page", "/api/v1/openapi.json"]
    for url in pages:
        response = client.get(url)
        policy = policy_of(response)

        assert policy["object-src"] == "'none'", url
        assert policy["base-uri"] == "'none'", url
        assert policy["default-src"] == "'self'", url
        assert policy["style-src"] == "'self'", url
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], url
        assert "unsafe-eval" not in response.headers["Content-Security-Policy"], url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", url
        assert "Strict-Transport-Security" not in response.headers, url  # plain HTTP here


def test_each_response_has_its_own_nonce_and_every_script_carries_it(app, app_ctx):
    manager = make_user(Role.manager)
    staff = StaffClient(app.test_client())
    staff.sign_in(manager.email)

    first, second = staff.get("/manager/board"), staff.get("/manager/board")

    assert nonce_of(first) != nonce_of(second)
    html = second.get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts, "the live board loads its script"
    assert all(f'nonce="{nonce_of(second)}"' in tag for tag in scripts)


def test_only_the_embeds_may_be_framed_and_only_by_the_marketing_site(client, app_ctx):
    embedded = client.get("/embed/callback")
    direct = client.get("/callback")

    assert policy_of(embedded)["frame-ancestors"] == "'self' https://www.example-advocacy.org"
    assert "X-Frame-Options" not in embedded.headers
    assert policy_of(direct)["frame-ancestors"] == "'none'"
    assert direct.headers["X-Frame-Options"] == "DENY"


def test_pages_showing_a_visitors_answers_are_never_cached(forms, client, app_ctx):
    typo = forms.submit("/callback", {**CALLBACK, "email": "maria@"})
    assert typo.status_code == 422
    assert "James" in typo.get_data(as_text=True)  # their answers, re-rendered
    thanks = client.get(forms.submit("/callback", CALLBACK).location)

    for response in (typo, thanks, client.get("/chat")):
        assert response.headers["Cache-Control"] == "no-store"


def test_staff_pages_are_never_cached_but_stylesheets_are(app, app_ctx, client):
    advocate = make_user(Role.advocate)
    staff = StaffClient(app.test_client())
    staff.sign_in(advocate.email)

    assert staff.get("/advocate").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/staff.css").headers.get("Cache-Control", "")


def test_no_template_has_inline_scripts_handlers_or_style_attributes():
    # Email templates are excluded: mail clients need inline styles and run no scripts.
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if path.relative_to(TEMPLATES).parts[0] == "email":
            continue
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag or "csp_nonce()" not in tag:
                offenders.append((path.name, tag))
        offenders += [(path.name, m) for m in re.findall(r"\s(on[a-z]+)=[\"']", text)]
        # Style attributes, in HTML or passed to a form field's render call.
        offenders += [(path.name, m) for m in re.findall(r"\bstyle\s*=\s*[\"']", text)]
        offenders += [(path.name, "javascript:") for _ in re.findall("javascript:", text)]
    assert offenders == []


@pytest.fixture
def production_app(make_app, app, monkeypatch):
    for name, value in GOOD_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return make_app(
        "production",
        REDIS_URL=app.config["REDIS_URL"],
        RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"],
        SMTP_URL=None,
    )


def test_production_sends_hsts_and_a_host_only_secure_session_cookie(production_app, app_ctx):
    email = make_user(Role.advocate).email
    client = production_app.test_client()
    site = "https://help.example-advocacy.org"

    login_page = client.get("/login", base_url=site)
    assert login_page.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    (form,) = forms_on("/login", login_page.get_data(as_text=True))
    body = {**form.values, "email": email, "password": DEFAULT_PASSWORD}
    # Over HTTPS Flask-WTF also wants the Referer of this site, as a browser sends it.
    signed_in = client.post("/login", data=body, base_url=site, headers={"Referer": site})

    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    (cookie,) = [c for c in signed_in.headers.getlist("Set-Cookie") if "session=" in c]
    name, *attributes = [part.strip() for part in cookie.split(";")]
    assert name.startswith("__Host-session=")
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax"} <= set(attributes)
    assert not any(a.lower().startswith("domain=") for a in attributes)
