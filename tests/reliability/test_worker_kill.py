"""A worker killed with SIGKILL in the middle of a release fan-out to 20,000 engineers.

The fan-out is one INSERT … SELECT … ON CONFLICT DO NOTHING in one transaction, so
a worker that dies mid-statement leaves nothing behind: the database rolls it back
whole. Its message stays unacknowledged in Redis until the visibility timeout
(30 min), far too late for a release. The recovery that does not wait for it: a
worker queues a reconcile pass each time it connects to the broker, so at start
(training.celery), which assigns every in-scope engineer of every published
release. This test shows that a new worker gets all 20,000 engineers assigned
exactly once within two minutes of starting.

To kill the worker provably *inside* the fan-out, the test holds a SHARE lock on
the assignment table: the worker's INSERT is then issued, its transaction open,
and it waits (seen in pg_stat_activity), until the worker is dead.
"""

import json
import re
import signal
import time
import uuid
from datetime import timedelta

import psycopg
import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import SYSTEM
from courses.models import Release
from courses.services.releases import release_record
from tests.factories import EngineerFactory, SdkFactory, SkillFactory, TeamFactory
from tests.integration.conftest import _route_every_task
from tests.reliability.stack import stack_env, start_worker, stop, wait_until
from training.celery import app as celery_app
from training.models import Assignment, Engineer, Team
from training.services.tokens import token_issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ENGINEERS = 20_000
RECOVERY_SECONDS = 120
_ASSIGNMENT = Assignment._meta.db_table
_TEAM_SDKS = Team.sdks.through._meta.db_table
RECONCILED = re.compile(r"training\.tasks\.reconcile\[[^\]]+\] succeeded")


def _create_engineers(*, team_id: int, count: int) -> None:
    """Set-based, as an HR import of a big support organisation would be."""
    user_table = get_user_model()._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {user_table}
                (password, is_superuser, username, first_name, last_name, email,
                 is_staff, is_active, date_joined)
            SELECT '!', false, 'load-' || g, 'Load', 'Engineer ' || g,
                   'load-' || g || '@example.com', false, true, now()
            FROM generate_series(1, %s) AS g
            """,
            [count],
        )
        cursor.execute(
            f"""
            INSERT INTO {Engineer._meta.db_table}
                (user_id, team_id, tier, region, timezone, language, active,
                 calendar_token, created_at)
            SELECT u.id, %s, 'L1', (ARRAY['APAC', 'EMEA', 'AMER'])[1 + u.id %% 3], 'UTC',
                   'en', true, md5(random()::text || u.id::text), now()
            FROM {user_table} u
            WHERE u.username LIKE 'load-%%'
            """,
            [team_id],
        )


def _waiting_fanout(dsn: str) -> list[int]:
    """Backends whose release fan-out INSERT is waiting for our lock."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            """
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND query ILIKE %s AND query ILIKE %s AND wait_event_type = 'Lock'
            """,
            [f"%INSERT INTO {_ASSIGNMENT}%", f"%JOIN {_TEAM_SDKS}%"],
        ).fetchall()
    return [pid for (pid,) in rows]


def _backend_alive(dsn: str, pid: int) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    return bool(row[0])


def _unacked(queue: str) -> list[bytes]:
    """Delivery tags of messages for our private queue that a worker took and never
    acknowledged (kombu's Redis transport keeps them in the `unacked` hash)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    tags = []
    for tag, raw in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(raw)[-1]
        except (ValueError, TypeError, IndexError):
            continue
        if routing_key == queue:
            tags.append(tag)
    return tags


def _forget_unacked(queue: str) -> None:
    """Remove them from the shared Redis, so nothing of this test is redelivered later."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for tag in _unacked(queue):
        client.hdel("unacked", tag)
        client.zrem("unacked_index", tag)


@pytest.fixture
def big_release(db):
    """rtm-android 3.0.0 recorded (not published) for a team of 20,000 engineers;
    an inactive engineer and one of another SDK are out of scope."""
    android = SdkFactory(slug="rtm-android", name="RTM SDK for Android")
    SkillFactory(slug="reconnection")
    team = TeamFactory(slug="global-rtm", sdks=[android])
    _create_engineers(team_id=team.pk, count=ENGINEERS)
    EngineerFactory(team=team, active=False)
    EngineerFactory(team=TeamFactory(slug="web", sdks=[SdkFactory(slug="rtm-web")]))
    release, _ = release_record(
        sdk=android,
        version="3.0.0",
        customer_available_at=timezone.now() + timedelta(days=10),
        notes="",
        features=[{"key": "resume", "title": "Resume", "skills": ["reconnection"]}],
        actor=SYSTEM,
    )
    in_scope = set(Engineer.objects.filter(team=team, active=True).values_list("id", flat=True))
    assert len(in_scope) == ENGINEERS
    return release, in_scope


def test_a_worker_killed_mid_fanout_is_recovered_by_the_next_worker_exactly_once(
    big_release, tmp_path
):
    release, in_scope = big_release
    queue = f"preflight-kill-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "workers.log"
    env = stack_env()
    dsn = env["DATABASE_URL"]
    previous_routes = celery_app.conf.task_routes
    _route_every_task(to={"*": {"queue": queue}})
    first = second = None
    lock = psycopg.connect(dsn)
    try:
        first = start_worker(log=log, env=env, queue=queue)
        # Its (empty) start-up reconcile must be done before we take the lock.
        first.wait_for(lambda: RECONCILED.search(first.log()), what="the start-up reconcile")

        # Hold the fan-out at its INSERT: the statement is issued, its transaction open.
        lock.execute(f"LOCK TABLE {_ASSIGNMENT} IN SHARE MODE")
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION="Bearer " + token_issue(name="pipeline", scopes=["releases"])[1]
        )
        response = client.post("/api/v1/releases/rtm-android/3.0.0/publish/")
        assert response.status_code == 202, response.content
        wait_until(
            lambda: _waiting_fanout(dsn), timeout=60, what="the fan-out INSERT", log=first.log
        )
        (victim,) = _waiting_fanout(dsn)

        stop(first.process, sig=signal.SIGKILL)
        assert first.process.returncode == -signal.SIGKILL
        lock.rollback()  # the orphaned statement runs on, then finds its client gone
        wait_until(lambda: not _backend_alive(dsn, victim), timeout=60, what="the rollback")
        # Nothing half-written: the kill lost the whole fan-out, none of it committed.
        assert Assignment.objects.filter(release=release).count() == 0

        started = time.monotonic()
        second = start_worker(log=log, env=env, queue=queue)
        assignments = Assignment.objects.filter(release=release)
        wait_until(
            lambda: assignments.count() >= ENGINEERS,
            timeout=RECOVERY_SECONDS,
            what=f"{ENGINEERS} assignments after the new worker started",
            log=second.log,
        )
        recovered_in = time.monotonic() - started
        time.sleep(2)  # anything duplicated would have landed by now

        assert assignments.count() == ENGINEERS
        assert set(assignments.values_list("engineer_id", flat=True)) == in_scope
        assert assignments.values("engineer_id", "course_id").distinct().count() == ENGINEERS
        assert Release.objects.get(pk=release.pk).status == Release.Status.PUBLISHED
        print(f"recovered {ENGINEERS} assignments {recovered_in:.1f}s after the new worker started")
        assert recovered_in < RECOVERY_SECONDS
        # The start-up reconcile did it; the killed worker's message still waits out
        # the visibility timeout (and, redelivered, would find nothing to do).
        assert "'release': 20000" in second.log()
        assert _unacked(queue), "the killed worker's message should still be unacknowledged"
    finally:
        lock.close()
        _route_every_task(to=previous_routes)
        for worker in (first, second):
            if worker is not None:
                stop(worker.process)
        _forget_unacked(queue)
        celery_app.connection_for_write().default_channel.queue_purge(queue)
