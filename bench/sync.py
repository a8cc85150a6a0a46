"""Bulk people sync: an HR sync of N new engineers through POST
/api/v1/engineers/bulk/ (1,000 a call), with a real Celery worker assigning their
backlog (a team onboarding course and the training of an open release); timed from
the first call until every new engineer has both.

Then the same through SCIM: new users POSTed to /scim/v2/Users one at a time, as an
identity provider provisions them, at the rate one sends (SCIM_RATE), and again as
fast as one connection is answered; each new engineer's backlog is one task."""

import json
import statistics
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
# POSTs a second: what Microsoft Entra ID requires of an app in its gallery ("at least
# 25 requests per second per tenant", app gallery user provisioning requirements).
SCIM_RATE = 25.0
_SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
_SCIM_ENGINEER = "urn:preflight:params:scim:schemas:extension:2.0:Engineer"


@dataclass
class SyncResult:
    size: int
    calls: int = 0
    posts_s: float = 0.0  # the bulk calls themselves, one after the other
    total_s: float = 0.0  # first call → every engineer has their backlog
    slowest_call_s: float = 0.0
    assignments: int = 0


@dataclass
class ScimSyncResult:
    size: int
    rate: float | None  # POSTs a second sent; None: each as soon as the last is answered
    posts_s: float = 0.0  # first POST sent → last answered
    total_s: float = 0.0  # first POST sent → every engineer has their backlog
    median_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    assignments: int = 0

    @property
    def achieved_rate(self) -> float:
        return self.size / self.posts_s if self.posts_s else 0.0

    @property
    def backlog_lag_s(self) -> float:
        """How long after the last POST the last backlog was assigned."""
        return self.total_s - self.posts_s


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
    scim_token = token_issue(name="bench-idp", scopes=["scim"])[1]
    return {
        "team": teams[0],
        "release": release,
        "onboarding": onboarding,
        "token": token,
        "scim_token": scim_token,
    }


def measure(*, size: int, prep: dict, env: dict, logs: Path, home_queue: str) -> SyncResult:
    result = SyncResult(size=size)
    team = prep["team"]
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
        result.assignments = _await_backlog(prep, expected=2 * size, first_user_id=0)
        result.total_s = time.perf_counter() - started
    finally:
        worker.stop()
        purge(queue)
        route_every_task(to={"*": {"queue": home_queue}})
    return result


def _await_backlog(prep: dict, *, expected: int, first_user_id: int) -> int:
    """Wait until the engineers of users from `first_user_id` on hold `expected`
    assignments of the onboarding course and the release's course (two each)."""
    deadline = time.monotonic() + 600
    while True:
        assigned = data.scalar(
            f"""SELECT count(*) FROM {_TABLE} a JOIN training_engineer e ON e.id = a.engineer_id
            WHERE a.course_id IN (%s, %s) AND e.user_id >= %s""",
            [prep["onboarding"].pk, prep["release"].courses.get().pk, first_user_id],
        )
        if assigned >= expected:
            return assigned
        if time.monotonic() > deadline:
            raise RuntimeError(f"backlog: {assigned} of {expected} after 600 s")
        time.sleep(0.05)


def measure_scim(
    *, size: int, rate: float | None, prep: dict, env: dict, logs: Path, home_queue: str
) -> ScimSyncResult:
    """`size` new users POSTed to /scim/v2/Users one after the other, the n-th sent
    n / rate seconds after the first (or as soon as the last was answered), with a
    worker assigning each new engineer's backlog; timed until every one has it."""
    result = ScimSyncResult(size=size, rate=rate)
    team = prep["team"]
    tag = uuid.uuid4().hex[:6]
    queue = f"preflight-bench-{uuid.uuid4().hex[:8]}"
    route_every_task(to={"*": {"queue": queue}})
    worker = Worker(env, queue, logs / f"worker-scim-{tag}.log")
    try:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {prep['scim_token']}")
        bodies = [
            json.dumps(
                {
                    "schemas": [_SCIM_USER, _SCIM_ENGINEER],
                    "userName": f"idp-{tag}-{n:06d}@example.com",
                    "externalId": f"00u{tag}{n}",
                    "name": {"givenName": "New", "familyName": f"Hire{n}"},
                    "emails": [{"value": f"idp-{tag}-{n}@example.com", "primary": True}],
                    "active": True,
                    "timezone": "Asia/Shanghai",
                    _SCIM_ENGINEER: {"team": team.slug, "region": ("APAC", "EMEA", "AMER")[n % 3]},
                }
            )
            for n in range(size)
        ]
        latencies: list[float] = []
        first_user_id = None
        started = time.perf_counter()
        for n, body in enumerate(bodies):
            if rate:
                time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            sent = time.perf_counter()
            response = client.post("/scim/v2/Users", body, content_type="application/scim+json")
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 201:
                raise RuntimeError(
                    f"SCIM answered {response.status_code}: {response.content[:300]}"
                )
            if first_user_id is None:
                first_user_id = int(response.json()["id"])
        result.posts_s = time.perf_counter() - started
        result.assignments = _await_backlog(
            prep, expected=2 * size, first_user_id=first_user_id or 0
        )
        result.total_s = time.perf_counter() - started
        ordered = sorted(latencies)
        result.median_ms = statistics.median(ordered) * 1000
        result.p95_ms = ordered[int(0.95 * (len(ordered) - 1))] * 1000
        result.max_ms = ordered[-1] * 1000
    finally:
        worker.stop()
        purge(queue)
        route_every_task(to={"*": {"queue": home_queue}})
    return result
