"""Content upkeep (issue 18): reading a long changelog, and finding the lessons a
release made stale.

Both in-process on the bench database: the changelog is the three fixture styles of
tests/courses/changelogs/ repeated under new version headings to 300 KB; the stale
search runs over 2,000 published lessons of one SDK (one in ten naming the API the
release removes), each run in a transaction rolled back after it.
"""

import re
import statistics
import time
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from courses.changelog import parse_changelog
from courses.models import Course, Feature, Lesson, Release, Sdk
from courses.services.stale import release_mark_stale_content

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "courses" / "changelogs"
CHANGELOG_BYTES = 300_000
LESSONS = 2_000
RUNS = 7


def changelog_text(size: int = CHANGELOG_BYTES) -> str:
    """The fixtures' sections under ever new versions, to at least `size` bytes."""
    styles = [path.read_text(encoding="utf-8") for path in sorted(FIXTURES.glob("*.md"))]
    parts: list[str] = []
    total, major = 0, 1000
    while total < size:
        for text in styles:
            major -= 1
            renumbered = re.sub(
                r"\d+\.\d+\.\d+", lambda m, major=major: f"{major}.{m.group(0)}", text
            )
            parts.append(renumbered)
            total += len(renumbered.encode())
    return "\n".join(parts)


def _median_ms(timings: list[float]) -> float:
    return statistics.median(timings) * 1000


def measure_changelog() -> dict:
    text = changelog_text()
    timings, entries = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        versions = parse_changelog(text)
        timings.append(time.perf_counter() - started)
        entries = sum(len(version.entries) for version in versions)
    return {
        "bytes": len(text.encode()),
        "versions": len(versions),
        "entries": entries,
        "median_ms": _median_ms(timings),
    }


def measure_stale() -> dict:
    now = timezone.now()
    sdk, _ = Sdk.objects.get_or_create(slug="bench-stale", defaults={"name": "Stale bench SDK"})
    old, _ = Release.objects.get_or_create(
        sdk=sdk,
        version="1.0.0",
        defaults={"sort_key": "bench", "customer_available_at": now},
    )
    new, _ = Release.objects.get_or_create(
        sdk=sdk,
        version="2.0.0",
        defaults={"sort_key": "bench2", "customer_available_at": now},
    )
    Feature.objects.get_or_create(
        release=new,
        key="remove-send",
        defaults={
            "title": "Remove sendMessage",
            "kind": Feature.Kind.REMOVED,
            "symbols": ["RtmClient.sendMessage", "RtmChannel.join"],
        },
    )
    if not Lesson.objects.filter(course__release=old).exists():
        courses = Course.objects.bulk_create(
            Course(slug=f"bench-stale-{n}", title=f"Course {n}", release=old) for n in range(40)
        )
        body = "A paragraph about reconnecting and ordering. " * 30
        Lesson.objects.bulk_create(
            Lesson(
                course=courses[n % len(courses)],
                position=n // len(courses) + 1,
                title=f"Lesson {n}",
                body=body + ("Call `client.sendMessage(msg)`." if n % 10 == 0 else ""),
            )
            for n in range(LESSONS)
        )
    timings, marked = [], 0
    for _ in range(RUNS):
        with transaction.atomic():
            started = time.perf_counter()
            marked = len(release_mark_stale_content(new))
            timings.append(time.perf_counter() - started)
            transaction.set_rollback(True)
    return {"lessons": LESSONS, "courses_marked": marked, "median_ms": _median_ms(timings)}
