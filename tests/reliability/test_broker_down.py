"""Redis stopped when a release is published, on the production stack: gunicorn, a
prefork Celery worker, and a redis-server of this test's own (broker and cache).

The publish commits first and queues the fan-out after the commit (core.queue),
so a broker that is down cannot undo it: the pipeline gets its 202 quickly (the
broker connection gives up within seconds), the release stays published, and no
500 anywhere. The rate limiter's cache is that Redis too and fails open. When
Redis is back, the worker reconnects, queues a reconcile pass (training.celery),
and the assignments appear: nothing lost.
"""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.actors import SYSTEM
from courses.models import Course, Release
from courses.services.releases import release_record
from tests.factories import EngineerFactory, SdkFactory, SkillFactory, TeamFactory
from tests.reliability.stack import (
    RedisServer,
    WebServer,
    stack_env,
    start_worker,
    stop,
    wait_until,
)
from training.models import Assignment
from training.services.tokens import token_issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Connection refused is seen at once; the publish must not wait on the broker long.
MAX_PUBLISH_SECONDS = 5.0


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def staffed_release(transactional_db):
    android = SdkFactory(slug="rtm-android")
    SkillFactory(slug="reconnection")
    team = TeamFactory(slug="follow-the-sun", sdks=[android])
    engineers = {
        EngineerFactory(team=team, region=region).pk for region in ("APAC", "EMEA", "AMER", "AMER")
    }
    release, _ = release_record(
        sdk=android,
        version="2.4.0",
        customer_available_at=timezone.now() + timedelta(days=20),
        notes="",
        features=[{"key": "resume", "title": "Resume", "skills": ["reconnection"]}],
        actor=SYSTEM,
    )
    return release, engineers


def test_a_publish_while_redis_is_down_is_kept_and_assigned_once_redis_is_back(
    own_redis, staffed_release, tmp_path
):
    release, engineers = staffed_release
    token = token_issue(name="pipeline", scopes=["releases"])[1]
    env = stack_env(CELERY_BROKER_URL=own_redis.url, CACHE_URL=own_redis.url)
    worker = start_worker(log=tmp_path / "worker.log", env=env)
    web = WebServer(env=env, log=tmp_path / "web.log")
    try:
        worker.wait_for(
            lambda: "training.tasks.reconcile" in worker.log() and "succeeded" in worker.log(),
            what="the start-up reconcile",
        )
        own_redis.stop()

        status, body, seconds = web.request(
            "POST", "/api/v1/releases/rtm-android/2.4.0/publish/", token=token
        )
        print(f"publish with Redis down answered {status} in {seconds:.2f}s")
        assert status == 202, body
        assert json.loads(body)["status"] == "published"
        assert seconds < MAX_PUBLISH_SECONDS
        release.refresh_from_db()
        assert release.status == Release.Status.PUBLISHED
        assert Course.objects.filter(release=release).count() == 1
        assert not Assignment.objects.filter(release=release).exists()
        assert "could not queue training.tasks.assign_release_training" in web.log()

        # Reads and health keep answering too; the broker is reported down.
        status, body, _ = web.request(
            "GET", "/api/v1/releases/rtm-android/2.4.0/readiness/", token=token
        )
        assert status == 200, body
        status, body, _ = web.request("GET", "/healthz")
        assert (status, json.loads(body)) == (200, {"database": "ok", "broker": "down"})
        # Publishing again is still the idempotent 200, not an error.
        status, _, _ = web.request(
            "POST", "/api/v1/releases/rtm-android/2.4.0/publish/", token=token
        )
        assert status == 200

        time.sleep(1)
        own_redis.start()  # same port, empty: every message sent before is gone
        assignments = Assignment.objects.filter(release=release)
        wait_until(
            lambda: assignments.count() >= len(engineers),
            timeout=90,
            what="the assignments after Redis came back",
            log=worker.log,
        )
        time.sleep(1)
        assert set(assignments.values_list("engineer_id", flat=True)) == engineers
        assert assignments.count() == len(engineers)
        status, body, _ = web.request("GET", "/healthz")
        assert json.loads(body)["broker"] == "ok"
        assert "Internal Server Error" not in web.log()
    finally:
        web.stop()
        stop(worker.process)
