"""Fan-out: publish a release to N in-scope engineers through the API, a real
Celery worker assigns; against a raw COPY of the very same rows into the same
table, with the same indexes and constraints, in the same run."""

import contextlib
import io
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.db import connection
from django.test import Client

from bench import data
from bench.infra import Worker, cpu_seconds, proc_status
from training.models import Assignment

VERSION = "1.0.0"
# The columns the fan-out's INSERT ... SELECT writes, in its order.
COLUMNS = (
    "engineer_id, course_id, release_id, reason, mandatory, status, assigned_by_id, "
    "assigned_at, due_at, completed_at, exempt_reason"
)
_TABLE = Assignment._meta.db_table
_DONE_LINE = re.compile(r"assign_release_training\[[^\]]+\] (succeeded in ([0-9.]+)s|raised)")
_RECEIVED_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/MainProcess\] "
    r"Task training\.tasks\.assign_release_training\[[^\]]+\] received",
    re.M,
)
_RECONCILE_DONE = re.compile(r"training\.tasks\.reconcile\[[^\]]+\] (succeeded|raised)")


@dataclass
class FanoutResult:
    size: int
    accepted_s: float = 0.0  # the publish call's own response time (202)
    received_s: float = 0.0  # publish call → the worker logs the task received
    fanout_s: float = 0.0  # publish call → the worker reports the assignments committed
    task_s: float = 0.0  # the task's own runtime, as the worker logs it
    copy_s: float = 0.0
    # CPU of the bench database's PostgreSQL backends over each: a figure that other
    # work on a shared machine moves far less than wall-clock time.
    fanout_db_cpu_s: float = float("nan")
    copy_db_cpu_s: float = float("nan")
    exempt: int = 0
    worker_hwm_idle: int = 0  # VmHWM of the fresh worker before the task
    worker_hwm: int = 0  # VmHWM after the task: the peak of the whole process
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.fanout_s / self.copy_s if self.copy_s else float("inf")

    @property
    def cpu_ratio(self) -> float:
        return self.fanout_db_cpu_s / self.copy_db_cpu_s if self.copy_db_cpu_s else float("nan")


def prepare(sizes: list[int]) -> dict[int, dict]:
    """Per size: an SDK supported by 10 teams, `size` active engineers in scope plus
    2 % inactive ones who are not, a draft release whose two features touch two
    skills; 5 % of the engineers hold both skills (exempt), 10 % some skills."""
    skill_list = data.skills("bench-fanout-skill", 3)
    skill_ids = [skill.pk for skill in skill_list[:2]]
    prepared = {}
    for size in sizes:
        sdk, teams = data.sdk_with_teams(f"bench-fanout-{size}", teams=10)
        ids = data.engineers(f"fan{size}", teams=teams, active=size, inactive=size // 50)
        data.skill_records(ids, [skill.pk for skill in skill_list], share=0.1)
        data.covering_records(ids[::20], skill_ids)
        release = data.draft_release(sdk, VERSION, [skill.slug for skill in skill_list[:2]])
        prepared[size] = {"sdk": sdk, "release": release, "engineer_ids": ids}
    return prepared


def _clear_assignments() -> None:
    """A fresh table for each measurement: every row gone and the space reclaimed
    (TRUNCATE would cascade through attempts to skill records)."""
    data.sql(f"DELETE FROM {_TABLE}")
    data.sql(f"VACUUM ANALYZE {_TABLE}")


def _wait_for_startup_reconcile(worker: Worker, timeout: float = 60) -> None:
    """Let the reconcile pass a worker queues on connecting end before publishing,
    so the two never overlap (it finds nothing to do: see `measure`)."""
    deadline = time.monotonic() + 3
    while "reconcile[" not in worker.log() and time.monotonic() < deadline:
        time.sleep(0.05)  # not configured (PREFLIGHT_RECONCILE_ON_CONNECT=0): no pass
    if "reconcile[" not in worker.log():
        return
    deadline = time.monotonic() + timeout
    while not _RECONCILE_DONE.search(worker.log()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker's reconcile pass did not end:\n{worker.log()}")
        time.sleep(0.05)


def _received_after(worker: Worker, wall_started: float) -> float:
    """Seconds from the publish call to the worker logging the task received (to
    the log clock's millisecond)."""
    match = _RECEIVED_LINE.search(worker.log())
    if not match:
        return float("nan")
    # Django sets TZ to TIME_ZONE (UTC) in every process, the worker's log included.
    logged = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC)
    received = logged.timestamp()
    return received - wall_started


def _wait_for_worker(worker: Worker, started: float, timeout: float) -> tuple[float, float]:
    """Wall time from `started` until the worker logs the task's end (it logs only
    after the service's transaction committed), and the task's own runtime. Reading
    the log costs the database nothing, unlike counting rows every few ms while the
    INSERT runs."""
    deadline = started + timeout
    while time.perf_counter() < deadline:
        match = _DONE_LINE.search(worker.log())
        if match:
            elapsed = time.perf_counter() - started
            if match.group(1) == "raised":
                raise RuntimeError(f"the fan-out task failed:\n{worker.log()}")
            return elapsed, float(match.group(2))
        if worker.process.poll() is not None:
            break
        time.sleep(0.005)
    raise RuntimeError(f"the fan-out did not finish within {timeout:.0f}s:\n{worker.log()}")


def measure(
    *,
    size: int,
    prep: dict,
    env: dict,
    token: str,
    database_url: str,
    logs: Path,
    home_queue: str,
) -> FanoutResult:
    result = FanoutResult(size=size)
    release = prep["release"]
    # Releases measured before are done with: withdrawn, so that the reconcile pass
    # every worker queues when it connects (training.celery) has nothing to redo.
    data.sql(
        "UPDATE courses_release SET status = 'withdrawn' WHERE status = 'published' AND id <> %s",
        [release.pk],
    )
    _clear_assignments()

    queue = f"preflight-bench-{uuid.uuid4().hex[:8]}"
    route_every_task(to={"*": {"queue": queue}})
    worker = Worker(env, queue, logs / f"worker-{size}.log")
    try:
        _wait_for_startup_reconcile(worker)
        result.worker_hwm_idle = proc_status(worker.pid, "VmHWM")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        detail = f"/api/v1/releases/{prep['sdk'].slug}/{VERSION}/"
        for _ in range(3):  # a warm web process, as production's are
            assert client.get(detail).status_code == 200
        backends_before = _backend_cpu()
        wall_started = time.time()
        started = time.perf_counter()
        response = client.post(detail + "publish/")
        result.accepted_s = time.perf_counter() - started
        if response.status_code != 202:
            raise RuntimeError(f"publish answered {response.status_code}: {response.content!r}")
        result.fanout_s, result.task_s = _wait_for_worker(worker, started, timeout=600)
        result.received_s = _received_after(worker, wall_started)
        backends_after = _backend_cpu()
        result.fanout_db_cpu_s = sum(
            cpu - backends_before.get(pid, 0.0) for pid, cpu in backends_after.items()
        )
        written = data.scalar(f"SELECT count(*) FROM {_TABLE} WHERE release_id = %s", [release.pk])
        if written != size:
            raise RuntimeError(f"the fan-out wrote {written} assignments, expected {size}")
        result.exempt = data.scalar(
            f"SELECT count(*) FROM {_TABLE} WHERE release_id = %s AND status = 'exempt'",
            [release.pk],
        )
        result.worker_hwm = proc_status(worker.pid, "VmHWM")
    finally:
        worker.stop()
        purge(queue)
        route_every_task(to={"*": {"queue": home_queue}})

    result.copy_s, result.copy_db_cpu_s = _copy_same_rows(release.pk, database_url)
    return result


def _backend_cpu() -> dict[int, float]:
    """CPU used so far by each backend connected to this database (ours, the
    worker's); a backend that appears later counts from zero."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend'"
        )
        pids = [row[0] for row in cursor.fetchall()]
    return {pid: cpu_seconds(pid) for pid in pids}


def _copy_same_rows(release_id: int, database_url: str) -> tuple[float, float]:
    """Take the rows the fan-out wrote, empty the table as it was before the
    fan-out, and time COPY ... FROM STDIN of them in one committed transaction
    (deferred foreign keys are checked at that commit, as for the fan-out)."""
    buffer = io.BytesIO()
    export = (
        f"COPY (SELECT {COLUMNS} FROM {_TABLE} WHERE release_id = {int(release_id)} "
        "ORDER BY id) TO STDOUT"
    )
    with (
        psycopg.connect(database_url) as conn,
        conn.cursor() as cursor,
        cursor.copy(export) as copy,
    ):
        for chunk in copy:
            buffer.write(chunk)
    _clear_assignments()
    payload = buffer.getvalue()
    with psycopg.connect(database_url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        # End the transaction that query opened: otherwise the block below is only a
        # savepoint, and the commit (with the deferred foreign-key checks) would
        # happen after the clock stops, when the connection closes.
        conn.commit()
        cpu_started = cpu_seconds(backend)
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cursor,
            cursor.copy(f"COPY {_TABLE} ({COLUMNS}) FROM STDIN") as copy,
        ):
            copy.write(payload)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(backend) - cpu_started
    return elapsed, cpu


def route_every_task(*, to) -> None:
    """As tests/integration/conftest.py: Celery caches its router; rebuild it."""
    from training.celery import app

    app.conf.task_routes = to
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()


def purge(queue: str) -> None:
    from training.celery import app

    # A queue never declared has nothing to purge (and may raise saying so).
    with app.connection_for_write() as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge(queue)
