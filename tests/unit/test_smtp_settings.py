"""SMTP_URL checks the production start-up runs, and how SMTP failures are named."""

import smtplib

import pytest

from crm.services.mail import classify_smtp_error, smtp_url_problems


@pytest.mark.parametrize(
    "url",
    [
        "smtp://mail.example.org:587",
        "smtp://relay%40example.org:p%40ss@mail.example.org:587",
        "smtps://user:pass@mail.example.org",
        "smtp://127.0.0.1:25?starttls=false",
        "smtp://mail.example.org?starttls=true&verify=true",
    ],
)
def test_urls_fit_for_production_have_no_problems(url):
    assert smtp_url_problems(url, "production") == []


def test_an_empty_url_is_left_to_the_required_settings_check():
    assert smtp_url_problems("", "production") == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smtp://user:pw@mail.example.org?starttls=false", "has a username but ?starttls=false"),
        ("smtp://mail.example.org?verify=false", "?verify=false"),
        ("http://mail.example.org", "must start with smtp:// (STARTTLS) or smtps://"),
        ("smtp+tls://mail.example.org", "not smtp+tls://"),
        ("smtp://:25", "names no host"),
        ("smtp://mail.example.org:twenty-five", "port that is not a number"),
        ("smtp://mail.example.org?tls=yes", "option ?tls= is unknown"),
        ("smtp://mail.example.org?starttls=maybe", "?starttls= must be true or false"),
        ("smtps://mail.example.org?starttls=false", "means nothing with smtps://"),
    ],
)
def test_each_problem_gets_its_own_clear_line(url, problem):
    (line,) = smtp_url_problems(url, "production")

    assert problem in line


def test_a_problem_never_repeats_the_password():
    (line,) = smtp_url_problems("smtp://relay:Hunter2-secret@mail.example.org?starttls=false", "x")

    assert "Hunter2" not in line and "relay" not in line


def test_verify_false_is_allowed_in_development_and_testing_only():
    url = "smtp://mail.example.org?verify=false"

    assert smtp_url_problems(url, "development") == []
    assert smtp_url_problems(url, "testing") == []
    assert "not in production" in smtp_url_problems(url, "production")[0]


def test_every_problem_of_one_url_is_listed():
    problems = smtp_url_problems("smtp://u:p@mail.example.org?starttls=false&verify=false", "prod")

    assert len(problems) == 2


def refused(code: int, text: str) -> smtplib.SMTPRecipientsRefused:
    return smtplib.SMTPRecipientsRefused({"pat@example.com": (code, text.encode())})


def timed_out_reading() -> smtplib.SMTPServerDisconnected:
    """What smtplib raises when the server stops answering mid-conversation."""
    error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed: timed out")
    error.__context__ = TimeoutError("timed out")
    return error


@pytest.mark.parametrize(
    ("error", "summary", "bounced"),
    [
        (refused(550, "5.1.1 <pat@example.com> unknown"), "SMTPRecipientsRefused 550", True),
        (refused(452, "4.2.2 <pat@example.com> over quota"), "SMTPRecipientsRefused 452", False),
        (smtplib.SMTPDataError(554, b"5.7.1 rejected"), "SMTPDataError 554", True),
        (smtplib.SMTPDataError(451, b"4.3.0 try later"), "SMTPDataError 451", False),
        # Our sender address or credentials: retried, never the recipient's bounce.
        (
            smtplib.SMTPSenderRefused(553, b"bad sender", "advocates@example.org"),
            "SMTPSenderRefused 553",
            False,
        ),
        (
            smtplib.SMTPAuthenticationError(535, b"bad credentials"),
            "SMTPAuthenticationError 535",
            False,
        ),
        (
            smtplib.SMTPNotSupportedError("STARTTLS extension not supported"),
            "SMTPNotSupportedError",
            False,
        ),
        (ConnectionRefusedError(111, "Connection refused"), "ConnectionRefusedError", False),
        (TimeoutError("timed out"), "TimeoutError", False),
        (smtplib.SMTPServerDisconnected("gone"), "SMTPServerDisconnected", False),
        (timed_out_reading(), "SMTPServerDisconnected (TimeoutError)", False),
    ],
)
def test_failures_are_named_by_class_and_code_and_only_5xx_about_the_message_bounce(
    error, summary, bounced
):
    failure = classify_smtp_error(error)

    assert (failure.summary, failure.bounced) == (summary, bounced)
    assert str(failure) == summary
    assert failure.permanent == bounced
