"""The production Procfile and systemd units: one beat, gthread web, units systemd accepts."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy"
UNITS = ("crm-web.service", "crm-worker@.service", "crm-beat.service")


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_procfile_runs_web_workers_and_exactly_one_beat():
    processes = procfile()

    assert set(processes) == {"web", "worker", "beat"}
    assert "gunicorn --config gunicorn.conf.py wsgi:app" in processes["web"]
    assert " worker " in processes["worker"] and "--beat" not in processes["worker"]
    assert [name for name, command in processes.items() if " beat " in command] == ["beat"]


def test_gunicorn_uses_gthread_workers_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    monkeypatch.setenv("PORT", "8123")
    settings: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), settings)

    assert settings["worker_class"] == "gthread" and settings["workers"] == 5
    assert settings["bind"] == "127.0.0.1:8123" and settings["accesslog"] is None


def test_one_beat_unit_and_a_template_for_any_number_of_workers():
    beat = (DEPLOY / "crm-beat.service").read_text()
    worker = (DEPLOY / "crm-worker@.service").read_text()

    assert re.search(r"celery --app wsgi\.celery_app beat", beat)
    assert "%i" in worker and "beat" not in worker.split("ExecStart=", 1)[1].split("\n\n")[0]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_accepts_the_units(tmp_path):
    # Pointed at this checkout, so that the commands they name exist here.
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace("/srv/advocate-crm", str(ROOT))
        (tmp_path / name.replace("@.", "@1.")).write_text(text)
    units = [str(tmp_path / name.replace("@.", "@1.")) for name in UNITS]

    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
