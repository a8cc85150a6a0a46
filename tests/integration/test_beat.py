"""The beat schedule in code: every entry names a registered task, and
`celery -A training beat` starts with it and sends what is due.

Beat runs as its own process against an in-memory broker: what it sends stays in
that process, so no other worker or test run on a shared Redis ever receives it.
The proof that these tasks work on Redis with a real worker is in
test_gate_and_clock.py.
"""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta

from celery.beat import PersistentScheduler
from django.conf import settings

from tests.integration.conftest import ROOT
from training import tasks
from training.celery import app as celery_app

START_TIMEOUT = 45
EXPECTED = {
    "reconcile": "training.tasks.reconcile",
    "reminders": "training.tasks.send_reminders",
    "escalations": "training.tasks.send_escalations",
    "lead-notices": "training.tasks.send_pending_lead_notices",
    "ready-releases": "training.tasks.notify_ready_releases",
    "recertification": "training.tasks.assign_recertification",
}


def test_the_beat_schedule_names_only_registered_tasks():
    celery_app.loader.import_default_modules()
    registered = set(celery_app.tasks)
    schedule = settings.CELERY_BEAT_SCHEDULE

    assert {name: entry["task"] for name, entry in schedule.items()} == EXPECTED
    assert set(EXPECTED.values()) <= registered
    for name, entry in schedule.items():
        task = getattr(tasks, entry["task"].rsplit(".", 1)[1])
        assert task.name == entry["task"], name
        assert float(entry["schedule"]) > 0, name
    assert celery_app.conf.beat_schedule == schedule  # what `celery -A training beat` reads
    assert schedule["reconcile"]["schedule"] == 600  # every 10 minutes by default


def _seed(path: str) -> None:
    """A schedule file whose entries last ran a day ago, so that beat finds every one
    due at once instead of waiting out its interval (up to 15 minutes)."""
    scheduler = PersistentScheduler(app=celery_app, schedule_filename=path, lazy=False)
    try:
        day_ago = celery_app.now() - timedelta(days=1)
        for entry in scheduler.schedule.values():
            entry.last_run_at = day_ago
    finally:
        scheduler.close()


def test_celery_beat_starts_with_the_schedule_and_sends_every_due_task(tmp_path):
    schedule_file = str(tmp_path / "celerybeat-schedule")
    _seed(schedule_file)
    log = tmp_path / "beat.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "training.settings",
        "SECRET_KEY": settings.SECRET_KEY,
        "CELERY_BROKER_URL": "memory://",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "training", "beat"),
        *("--schedule", schedule_file, "--pidfile", str(tmp_path / "beat.pid")),
        "--loglevel=INFO",
    ]
    wanted = [f"Sending due task {name} ({task})" for name, task in EXPECTED.items()]

    def text() -> str:
        return log.read_text(errors="replace") if log.exists() else ""

    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not all(line in text() for line in wanted):
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    output = text()
    assert "beat: Starting..." in output, output
    missing = [line for line in wanted if line not in output]
    assert not missing, f"beat did not send {missing}. Its log:\n{output}"
    assert not re.search(r"\bERROR\b|Traceback", output), output
