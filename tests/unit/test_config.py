"""Configuration from the environment: database URLs, and production refusing unsafe defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import normalise_database_url
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


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({"DATABASE_URL": "postgresql://crm@db.example/crm"}, "SECRET_KEY"),
        ({"SECRET_KEY": "a-long-random-secret"}, "DATABASE_URL"),
    ],
)
def test_production_refuses_to_start_without_a_required_setting(monkeypatch, present, missing):
    for name in ("SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in present.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(RuntimeError, match=missing):
        create_app("production")


def test_production_refuses_to_start_with_neither_setting(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    with pytest.raises(RuntimeError, match="SECRET_KEY, DATABASE_URL"):
        create_app("production")


def test_production_with_both_settings_builds_and_uses_them():
    # A fresh interpreter, because settings are read from the environment at import time,
    # as they are when gunicorn starts the app.
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CRM_ENV")},
        "SECRET_KEY": "a-long-random-secret",
        "DATABASE_URL": "postgres://crm:pw@db.example:5432/crm",
    }
    script = (
        "from crm import create_app\n"
        "app = create_app('production')\n"
        "print(app.config['SQLALCHEMY_DATABASE_URI'])\n"
        "print(app.config['SECRET_KEY'])\n"
        "print(app.config['SESSION_COOKIE_SECURE'], app.debug, app.testing)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "postgresql+psycopg://crm:pw@db.example:5432/crm",
        "a-long-random-secret",
        "True False False",
    ]
