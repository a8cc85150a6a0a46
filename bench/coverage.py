"""Follow-the-sun coverage of a release's 72-hour launch window for 5,000 engineers
in a dozen time zones, a fifth of them on shifts of their own (nights among them)
and one in twenty with time off in the window: time and queries of the read the
gate and the coverage API make (training.readiness.coverage.release_coverage)."""

import statistics
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import data
from bench.readiness import add_progress
from courses.models import Release
from training.readiness.coverage import release_coverage
from training.services.assignments import release_assign_training

ENGINEERS = 5_000
ZONES = [
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Australia/Sydney",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Paris",
    "Africa/Cairo",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
]


@dataclass
class CoverageResult:
    engineers: int
    hours: int
    calls: int
    median_ms: float
    p90_ms: float
    queries: int
    gaps: int


def prepare(size: int = ENGINEERS) -> Release:
    sdk, teams = data.sdk_with_teams("bench-coverage", teams=10)
    ids = data.engineers("cov", teams=teams, active=size)
    data.sql(
        "UPDATE training_engineer SET timezone = (%s::text[])[1 + id %% %s] WHERE id = ANY(%s)",
        [ZONES, len(ZONES), ids],
    )
    # A fifth on shifts of their own: weekends, nights across midnight, early shifts.
    data.sql(
        """
        UPDATE training_engineer
        SET shift_days = (ARRAY[127, 96, 31])[1 + id %% 3],
            shift_start = (ARRAY[TIME '22:00', TIME '08:00', TIME '06:00'])[1 + id %% 3],
            shift_end = (ARRAY[TIME '06:00', TIME '20:00', TIME '15:00'])[1 + id %% 3]
        WHERE id = ANY(%s) AND id %% 5 = 0
        """,
        [ids],
    )
    skill_list = data.skills("bench-coverage-skill", 3)
    release = data.draft_release(sdk, "1.0.0", [skill.slug for skill in skill_list[:2]], days=10)
    data.quiz_course(release, "bench-coverage-1-0", skill_list[:2])
    release = data.publish(release)
    release_assign_training(release=release)
    add_progress(release)
    start = timezone.localdate(release.customer_available_at)
    data.sql(
        """
        INSERT INTO training_timeoff (engineer_id, start, "end", created_at)
        SELECT id, %s::date - 1, %s::date + 1, now() FROM training_engineer
        WHERE id = ANY(%s) AND id %% 20 = 3
        """,
        [start, start + timedelta(days=1), ids],
    )
    data.analyze()
    return release


def measure(release: Release, *, calls: int, engineers: int = ENGINEERS) -> CoverageResult:
    now = timezone.now()
    for _ in range(3):
        release_coverage(release, now=now)
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        release_coverage(release, now=now)
        samples.append(time.perf_counter() - started)
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        coverage = release_coverage(release, now=now)
    ordered = sorted(samples)
    return CoverageResult(
        engineers=engineers,
        hours=len(coverage["hours"]),
        calls=calls,
        median_ms=statistics.median(ordered) * 1000,
        p90_ms=ordered[int(0.9 * (len(ordered) - 1))] * 1000,
        queries=len(queries),
        gaps=len(coverage["gaps"]),
    )
