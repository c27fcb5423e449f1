"""The restore drill (scripts/restore_drill.sh) on the test database: dump, restore, same counts."""

import os
import shutil
import subprocess

import psycopg
import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import OutboxMessage, Submission
from tests.conftest import PG_ADMIN_URL
from tests.forms import CALLBACK, GUIDE, FormClient
from tests.worker import PROJECT_ROOT

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not (shutil.which("pg_dump") and shutil.which("pg_restore") and shutil.which("psql")),
        reason="pg_dump, pg_restore and psql are not installed here",
    ),
]
SCRATCH = "crm_restore_drill_scratch"


def databases() -> set[str]:
    with psycopg.connect(PG_ADMIN_URL) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


def test_the_restore_drill_restores_every_row(app, app_ctx, forms: FormClient, tmp_path):
    assert forms.submit("/guide", GUIDE).status_code == 303
    assert forms.submit("/callback", CALLBACK).status_code == 303
    submissions = db.session.scalar(sa.select(sa.func.count()).select_from(Submission))
    outbox = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    db.session.remove()
    dump = tmp_path / "backup.dump"

    drill = subprocess.run(
        [
            str(PROJECT_ROOT / "scripts" / "restore_drill.sh"),
            app.config["SQLALCHEMY_DATABASE_URI"],
            str(dump),
        ],
        env={**_path_env(), "SCRATCH_DATABASE": SCRATCH},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "row counts match" in drill.stdout
    assert submissions == 2 and outbox >= 2
    listing = subprocess.run(
        ["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    assert "TABLE DATA public submissions" in listing and "Format: CUSTOM" in listing
    assert SCRATCH not in databases()
    # What the drill prints is names and counts, never a row.
    for private in (GUIDE["last_name"], GUIDE["email"], CALLBACK["phone"]):
        assert private not in drill.stdout + drill.stderr


def _path_env() -> dict[str, str]:
    # The URL names the server; no PG* variable from the shell may point elsewhere.
    return {name: value for name, value in os.environ.items() if not name.startswith("PG")}
