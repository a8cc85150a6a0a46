"""Bulk people sync: an HR sync of N new engineers through POST
/api/v1/engineers/bulk/ (1,000 a call), with a real Celery worker assigning their
backlog (a team onboarding course and the training of an open release); timed from
the first call until every new engineer has both."""

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.test import Client

from bench import data
from bench.fanout import purge, route_every_task
from bench.infra import Worker
from courses.models import Course
from training.models import Assignment
from training.services.releases import release_publish
from training.services.tokens import token_issue

BATCH = 1000
_TABLE = Assignment._meta.db_table


@dataclass
class SyncResult:
    size: int
    calls: int = 0
    posts_s: float = 0.0  # the bulk calls themselves, one after the other
    total_s: float = 0.0  # first call → every engineer has their backlog
    slowest_call_s: float = 0.0
    assignments: int = 0


def prepare() -> dict:
    """A team of one SDK with an onboarding course and a published release."""
    from core.actors import SYSTEM

    sdk, teams = data.sdk_with_teams("bench-sync", teams=1)
    skills = data.skills("bench-sync-skill", 1)
    release = data.draft_release(sdk, "1.0.0", [skills[0].slug])
    data.quiz_course(release, "bench-sync-release", skills)
    route_every_task(to={"*": {"queue": f"preflight-bench-void-{uuid.uuid4().hex[:8]}"}})
    release_publish(release=release, actor=SYSTEM)
    onboarding, _ = Course.objects.get_or_create(
        slug="bench-sync-welcome", defaults={"title": "Hi"}
    )
    teams[0].onboarding_courses.add(onboarding)
    token = token_issue(name="bench-hr-sync", scopes=["people"])[1]
    return {"team": teams[0], "release": release, "onboarding": onboarding, "token": token}


def measure(*, size: int, prep: dict, env: dict, logs: Path, home_queue: str) -> SyncResult:
    result = SyncResult(size=size)
    team, release = prep["team"], prep["release"]
    queue = f"preflight-bench-{uuid.uuid4().hex[:8]}"
    route_every_task(to={"*": {"queue": queue}})
    worker = Worker(env, queue, logs / "worker-sync.log")
    try:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {prep['token']}")
        batches = [
            [
                {
                    "username": f"hire{n:06d}",
                    "email": f"hire{n}@example.com",
                    "name": f"New Hire{n}",
                    "team": team.slug,
                    "tier": "L1",
                    "region": ("APAC", "EMEA", "AMER")[n % 3],
                    "timezone": "Asia/Shanghai",
                }
                for n in range(start, min(start + BATCH, size))
            ]
            for start in range(0, size, BATCH)
        ]
        started = time.perf_counter()
        for batch in batches:
            call_started = time.perf_counter()
            response = client.post(
                "/api/v1/engineers/bulk/", json.dumps(batch), content_type="application/json"
            )
            result.slowest_call_s = max(result.slowest_call_s, time.perf_counter() - call_started)
            body = response.json()
            if response.status_code != 200 or body["created"] != len(batch) or body["errors"]:
                raise RuntimeError(f"bulk answered {response.status_code}: {str(body)[:500]}")
            result.calls += 1
        result.posts_s = time.perf_counter() - started
        expected = 2 * size  # the onboarding course and the release's course each
        deadline = time.monotonic() + 600
        while True:
            result.assignments = data.scalar(
                f"SELECT count(*) FROM {_TABLE} WHERE course_id IN (%s, %s)",
                [prep["onboarding"].pk, release.courses.get().pk],
            )
            if result.assignments >= expected:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"backlog: {result.assignments} of {expected} after 600 s")
            time.sleep(0.05)
        result.total_s = time.perf_counter() - started
    finally:
        worker.stop()
        purge(queue)
        route_every_task(to={"*": {"queue": home_queue}})
    return result
