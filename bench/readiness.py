"""Readiness of one release, through the API and the selector alone, at 1,000 and
100,000 assignments: time, and a query count that must not grow with the size."""

import statistics
import time
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import data
from courses.models import Release
from training.selectors.readiness import release_readiness
from training.services.assignments import release_assign_training

VERSION = "1.0.0"


@dataclass
class ReadinessResult:
    size: int
    endpoint_median_ms: float
    endpoint_p90_ms: float
    selector_median_ms: float
    endpoint_queries: int
    selector_queries: int
    calls: int
    plan: str


def prepare_small(size: int) -> Release:
    """A release published to `size` engineers, assigned in-process (no worker)."""
    sdk, teams = data.sdk_with_teams(f"bench-ready-{size}", teams=5)
    data.engineers(f"rdy{size}", teams=teams, active=size, inactive=size // 50)
    skill_list = data.skills("bench-fanout-skill", 3)
    release = data.draft_release(sdk, VERSION, [skill.slug for skill in skill_list[:2]])
    release = data.publish(release)
    release_assign_training(release=release)
    return release


def add_progress(release: Release) -> None:
    """As a release a week before its date looks: 70 % complete, 15 % in progress,
    the rest assigned (the exempt stay exempt), chosen by a hash of the engineer."""
    data.sql(
        """
        UPDATE training_assignment
        SET status = CASE WHEN abs(hashtext(engineer_id::text)) %% 100 < 70
                          THEN 'complete' ELSE 'in_progress' END,
            started_at = assigned_at,
            completed_at = CASE WHEN abs(hashtext(engineer_id::text)) %% 100 < 70
                                THEN assigned_at END
        WHERE release_id = %s AND status = 'assigned'
          AND abs(hashtext(engineer_id::text)) %% 100 < 85
        """,
        [release.pk],
    )
    data.sql("VACUUM ANALYZE training_assignment")


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.9 * (len(ordered) - 1))] * 1000


def measure(*, release: Release, size: int, token: str, calls: int) -> ReadinessResult:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/releases/{release.sdk.slug}/{release.version}/readiness/"
    for _ in range(3):  # warm: connection, caches, the token's last_used_at write
        response = client.get(url)
        assert response.status_code == 200, response.content
    assert response.json()["required"] == size, response.json()

    endpoint = []
    for _ in range(calls):
        started = time.perf_counter()
        client.get(url)
        endpoint.append(time.perf_counter() - started)
    selector = []
    for _ in range(calls):
        started = time.perf_counter()
        release_readiness(release)
        selector.append(time.perf_counter() - started)

    with CaptureQueriesContext(connection) as endpoint_queries:
        client.get(url)
    with CaptureQueriesContext(connection) as selector_queries:
        release_readiness(release)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + selector_queries.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    median, p90 = _ms(endpoint)
    return ReadinessResult(
        size=size,
        endpoint_median_ms=median,
        endpoint_p90_ms=p90,
        selector_median_ms=_ms(selector)[0],
        endpoint_queries=len(endpoint_queries),
        selector_queries=len(selector_queries),
        calls=calls,
        plan=plan,
    )
