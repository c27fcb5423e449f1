"""Staff sign-in in a real browser: in, home, out."""

import pytest
from playwright.sync_api import expect

from crm.models.enums import Role
from crm.views.auth import LIMITER_DOWN
from tests.factories import DEFAULT_PASSWORD, make_user


def test_an_advocate_signs_in_and_out_in_the_browser(signed_in, screenshot):
    page = signed_in(Role.advocate, name="Ada Vocate")

    expect(page.get_by_text("Ada Vocate (Advocate)")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/staff")
    assert page.url.endswith("/login?next=/staff")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()


def test_a_wrong_password_is_told_in_the_browser_without_saying_which_part(page, app):
    page.goto("/login")
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_label("Password").fill("not a real password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text(
        "That email and password don't match an active staff account."
    )
    expect(page.get_by_label("Email")).to_have_value("nobody@example.org")
    expect(page.get_by_label("Password")).to_have_value("")


@pytest.fixture
def limiter_down(app):
    """The live server's sign-in limiter on a Redis that refuses every connection."""
    saved_uri = app.config["RATELIMIT_STORAGE_URI"]
    saved_storage = app.extensions.pop("submit_limits", None)
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"  # made again on first use
    yield
    app.config["RATELIMIT_STORAGE_URI"] = saved_uri
    app.extensions.pop("submit_limits", None)
    if saved_storage is not None:
        app.extensions["submit_limits"] = saved_storage


def test_sign_in_says_it_is_paused_while_the_limiter_is_down(page, app, limiter_down):
    with app.app_context():
        email = make_user(Role.advocate).email
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text(LIMITER_DOWN)
    expect(page.get_by_label("Email")).to_have_value(email)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
