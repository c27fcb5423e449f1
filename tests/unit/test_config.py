"""Configuration from the environment: database URLs, and production refusing unsafe defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import (
    DEVELOPMENT_SECRET_KEY,
    ConfigurationError,
    normalise_database_url,
    production_problems,
)
from crm import create_app

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://crm:pw@db.example:5432/crm",
        "postgresql://crm:pw@db.example:5432/crm",
        "postgresql+psycopg://crm:pw@db.example:5432/crm",
    ],
)
def test_every_postgres_url_spelling_uses_psycopg_3(url):
    assert normalise_database_url(url) == "postgresql+psycopg://crm:pw@db.example:5432/crm"


@pytest.mark.parametrize(
    "url", ["sqlite:///instance/crm.sqlite3", "sqlite://", "sqlite:////var/lib/crm/postgres.db"]
)
def test_sqlite_urls_are_left_alone(url):
    assert normalise_database_url(url) == url


GOOD_PRODUCTION = {
    "SECRET_KEY": "k" * 24 + "-rotated-2026-11",
    "DATABASE_URL": "postgres://crm:pw@db.example:5432/crm",
    "REDIS_URL": "redis://cache.example:6379/0",
    "SMTP_URL": "smtp://mail.example:587",
    "PUBLIC_BASE_URL": "https://help.example-advocacy.org",
    "TRUSTED_PROXY_HOPS": "1",
    "DATA_KEYS": "k1=" + "A" * 43,
}


def test_a_complete_production_environment_has_no_problems():
    assert production_problems(GOOD_PRODUCTION) == []


@pytest.mark.parametrize("missing", sorted(GOOD_PRODUCTION))
def test_production_names_each_missing_setting_on_its_own_line(missing):
    environ = {k: v for k, v in GOOD_PRODUCTION.items() if k != missing}

    (problem,) = production_problems(environ)

    assert problem.startswith(missing)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SECRET_KEY", DEVELOPMENT_SECRET_KEY),
        ("SECRET_KEY", "short-but-random-31-characters!"),
        ("PUBLIC_BASE_URL", "http://help.example-advocacy.org"),
        ("TRUSTED_PROXY_HOPS", ""),
        ("TRUSTED_PROXY_HOPS", "two"),
    ],
)
def test_production_refuses_unsafe_values(setting, value):
    (problem,) = production_problems({**GOOD_PRODUCTION, setting: value})

    assert problem.startswith(setting)


@pytest.mark.parametrize(
    "smtp_url",
    [
        "smtp://user:secret@mail.example:587?starttls=false",
        "smtp://mail.example:587?verify=false",
    ],
)
def test_production_refuses_an_smtp_url_that_would_leak_mail_or_passwords(smtp_url):
    (problem,) = production_problems({**GOOD_PRODUCTION, "SMTP_URL": smtp_url})

    assert "SMTP" in problem or "smtp" in problem


def test_no_proxy_is_said_with_zero_hops():
    assert production_problems({**GOOD_PRODUCTION, "TRUSTED_PROXY_HOPS": "0"}) == []


def test_production_refuses_to_start_and_lists_every_problem(monkeypatch):
    for name in GOOD_PRODUCTION:
        monkeypatch.delenv(name, raising=False)

    with pytest.raises(ConfigurationError) as refused:
        create_app("production")

    lines = str(refused.value).splitlines()
    assert lines[0] == "Production refuses to start:"
    assert len(lines) == 1 + len(GOOD_PRODUCTION)


def run_python(script: str, **environ: str) -> subprocess.CompletedProcess:
    """A fresh interpreter: settings are read from the environment at import, as under gunicorn."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in (*GOOD_PRODUCTION, "CRM_ENV")},
        **environ,
    }
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_app_is_production_unless_told_otherwise():
    result = run_python("import wsgi")

    assert result.returncode != 0
    assert "Production refuses to start" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_production_with_every_setting_builds_and_uses_them():
    script = (
        "from crm import create_app\n"
        "app = create_app()\n"
        "print(app.config['CRM_ENV'], app.config['SQLALCHEMY_DATABASE_URI'])\n"
        "print(app.config['SESSION_COOKIE_SECURE'], app.debug, app.testing)\n"
        "print('dev' in app.blueprints, {'public', 'api', 'auth'} <= set(app.blueprints))\n"
    )
    result = run_python(script, **GOOD_PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "production postgresql+psycopg://crm:pw@db.example:5432/crm",
        "True False False",
        "False True",  # no development mailbox in production, whatever else is there
    ]
