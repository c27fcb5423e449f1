"""Staff sign-in in a real browser: in, home, out."""

from playwright.sync_api import expect

from crm.models.enums import Role


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
