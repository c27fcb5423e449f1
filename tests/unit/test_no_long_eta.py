"""DESIGN.md rule 2: no Celery ETA or countdown over five minutes, anywhere."""

import ast
from pathlib import Path

import pytest

FIVE_MINUTES = 300
CRM = Path(__file__).resolve().parents[2] / "crm"


def _scheduling_keywords():
    for path in CRM.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg in {"countdown", "eta", "retry_backoff_max"}:
                        yield path.relative_to(CRM.parent), node.lineno, keyword


def test_no_code_schedules_a_task_more_than_five_minutes_ahead():
    offenders = []
    for path, line, keyword in _scheduling_keywords():
        value = keyword.value
        if keyword.arg == "eta" or not isinstance(value, ast.Constant):
            offenders.append(
                f"{path}:{line} {keyword.arg}= (an ETA, or a value not provably short)"
            )
        elif value.value > FIVE_MINUTES:
            offenders.append(f"{path}:{line} {keyword.arg}={value.value}")
    assert offenders == []


@pytest.fixture
def celery_app(app):
    return app.extensions["celery"]


def test_every_task_retries_within_five_minutes(celery_app):
    tasks = {
        name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")
    }
    assert tasks, "no project tasks registered"
    for name, task in tasks.items():
        assert task.default_retry_delay <= FIVE_MINUTES, name
        assert (getattr(task, "retry_backoff_max", 0) or 0) <= FIVE_MINUTES, name


def test_beat_runs_every_periodic_job_more_often_than_every_five_minutes(celery_app):
    schedule = celery_app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} >= {
        "outbox.relay",
        "outbox.return_stuck",
        "callbacks.escalate",
        "spam.purge",
        "rollups.refresh",
    }
    for entry in schedule.values():
        assert float(entry["schedule"]) <= FIVE_MINUTES
