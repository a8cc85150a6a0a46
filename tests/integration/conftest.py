"""A real Celery worker for `services` tests: Redis as the broker, the test database.

The worker is a separate process, as in production, so it sees only what the tests
commit: tests that use it need `transactional_db`. It consumes a queue of its own,
so a stray message from another run or another worker on the same Redis can neither
reach it nor be taken from it. It lives for the session, but only the tests that ask
for `celery_worker` route their tasks to it: a task another test queues (a publish's
mail to the authors) must not run during a later test, nor beside the flush that
ends one (TRUNCATE against the task's transaction is a deadlock).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.services import services_missing
from training.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60


def _database_url() -> str:
    db = connection.settings_dict  # pytest-django has switched NAME to the test database
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


def _route_every_task(*, to) -> None:
    """Send the tasks of this process as `to` says. Celery caches its router once a
    task has been sent, and changing the setting does not reset it: rebuild it."""
    celery_app.conf.task_routes = to
    celery_app.amqp.flush_routes()
    celery_app.amqp.router = celery_app.amqp.Router()


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path, queue: str) -> None:
        self.process, self.log_path, self.queue = process, log, queue

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for(self, condition: Callable[[], bool], *, timeout: float = 60, what: str) -> None:
        """Poll `condition` until true; fail with the worker's log when it never is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(f"{what} did not happen within {timeout:.0f}s. Worker log:\n{self.log()}")


@pytest.fixture
def celery_worker(_celery_worker_process):
    """The session's worker, with every task this test sends routed to its queue
    while the test runs (and only then)."""
    previous_routes = celery_app.conf.task_routes
    _route_every_task(to={"*": {"queue": _celery_worker_process.queue}})
    try:
        yield _celery_worker_process
    finally:
        _route_every_task(to=previous_routes)


@pytest.fixture(scope="session")
def _celery_worker_process(django_db_setup, tmp_path_factory):
    missing = services_missing()
    if missing:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {missing}")
        pytest.skip(missing)

    queue = f"preflight-test-{uuid.uuid4().hex[:12]}"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "training.settings",
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # Tasks the worker itself queues (e.g. a webhook delivery) stay on its queue.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONUNBUFFERED": "1",
    }
    celery = [sys.executable, "-m", "celery", "-A", "training"]
    subprocess.run(
        [*celery, "purge", "-f", "-Q", queue], env=env, cwd=ROOT, check=False, capture_output=True
    )

    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *celery,
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
            ],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process, log, queue)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while " ready." not in worker.log():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The Celery worker did not start. Its log:\n{worker.log()}")
            time.sleep(0.2)
        yield worker
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process.returncode not in (0, -signal.SIGTERM):
            print(f"Celery worker exited with {process.returncode}. Its log:\n{worker.log()}")
