"""Readiness of one release, through the API, at 1,000 and 100,000 assignments:
with its counts kept, right after a quiz passed (folded into them), right after a
change that makes them be counted again; and the gate's fresh count. Time, and a
query count that must not grow with the size."""

import statistics
import time
from dataclasses import dataclass

from django.db import connection, reset_queries, transaction
from django.db.models.functions import Coalesce
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import data
from courses.models import Release
from training.api.releases import ReadinessSerializer
from training.models import Assignment
from training.readiness import release_readiness_fresh
from training.readiness.keep import readiness_assignment_completed, readiness_changed
from training.services.assignments import release_assign_training

VERSION = "1.0.0"


@dataclass
class ReadinessResult:
    size: int
    calls: int
    # The endpoint with the release's counts kept (nothing changed since the last read).
    endpoint_median_ms: float
    endpoint_p90_ms: float
    endpoint_queries: int
    # The endpoint right after a quiz passed (folded into the kept counts), and what
    # folding that completion cost the service.
    folded_median_ms: float
    folded_p90_ms: float
    folded_queries: int
    fold_median_ms: float
    # The endpoint right after a change that is not folded (a region change, a moved
    # date, a fan-out): the release's engineers counted again.
    recount_median_ms: float
    recount_p90_ms: float
    recount_queries: int
    # The gate's own fresh count, the selector alone.
    fresh_median_ms: float
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
    # Every table: the engineers, teams and their SDKs were built just before and may
    # have no statistics yet (which autovacuum gathers on a live database); planned
    # without them, the count probes the assignments once per engineer.
    data.sql("VACUUM ANALYZE")


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.9 * (len(ordered) - 1))] * 1000


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _queries(call) -> list[dict]:
    """The SQL `call` runs. (The log is emptied first: CaptureQueriesContext counts
    nothing once Django's query log has reached its 9,000-entry cap.)"""
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        call()
    return captured.captured_queries


def _open_assignments(release: Release, count: int) -> list[Assignment]:
    return list(
        Assignment.objects.filter(release=release, reason=Assignment.Reason.RELEASE)
        .exclude(status__in=Assignment.DONE)
        .order_by("pk")[:count]
    )


@transaction.atomic
def _complete(assignment: Assignment) -> None:
    """A quiz passed, as training.services.progress records it: the assignment
    completed, then the completion folded into the kept counts, in one transaction
    (the lessons and the quiz themselves are left out: they are the HTTP section's)."""
    now = timezone.now()
    Assignment.objects.filter(pk=assignment.pk).update(
        status=Assignment.Status.COMPLETE, completed_at=now, started_at=Coalesce("started_at", now)
    )
    readiness_assignment_completed(assignment=assignment, now=now)


def _explain(sql: str) -> str:
    """`EXPLAIN (ANALYZE, BUFFERS)` of the count's SELECT as it ran, in a transaction
    rolled back after."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def measure(*, release: Release, size: int, token: str, calls: int) -> ReadinessResult:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/releases/{release.sdk.slug}/{release.version}/readiness/"

    def get():
        response = client.get(url)
        assert response.status_code == 200, response.content
        return response

    for _ in range(3):  # warm: connection, caches, the token's last_used_at write
        response = get()
    assert response.json()["required"] == size, response.json()

    kept = [_timed(get) for _ in range(calls)]
    kept_queries = _queries(get)

    folded, fold = [], []
    for assignment in _open_assignments(release, calls + 1):
        fold.append(_timed(lambda a=assignment: _complete(a)))
        folded.append(_timed(get))
    _complete(_open_assignments(release, 1)[0])
    folded_queries = _queries(get)
    assert get().json() == ReadinessSerializer(release_readiness_fresh(release)).data

    recount = []
    for _ in range(calls):
        readiness_changed(release_ids=[release.pk])
        recount.append(_timed(get))
    readiness_changed(release_ids=[release.pk])
    recount_queries = _queries(get)

    fresh = [_timed(lambda: release_readiness_fresh(release)) for _ in range(calls)]
    fresh_queries = _queries(lambda: release_readiness_fresh(release))
    plan = _explain(next(q["sql"] for q in fresh_queries if "training_engineer" in q["sql"]))

    kept_median, kept_p90 = _ms(kept)
    folded_median, folded_p90 = _ms(folded)
    recount_median, recount_p90 = _ms(recount)
    return ReadinessResult(
        size=size,
        calls=calls,
        endpoint_median_ms=kept_median,
        endpoint_p90_ms=kept_p90,
        endpoint_queries=len(kept_queries),
        folded_median_ms=folded_median,
        folded_p90_ms=folded_p90,
        folded_queries=len(folded_queries),
        fold_median_ms=_ms(fold)[0],
        recount_median_ms=recount_median,
        recount_p90_ms=recount_p90,
        recount_queries=len(recount_queries),
        fresh_median_ms=_ms(fresh)[0],
        plan=plan,
    )
