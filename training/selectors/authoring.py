"""Reads for content authors: which releases wait on a course."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from courses.models import Course, Quiz, Release


@dataclass(frozen=True, slots=True)
class WaitingRelease:
    release: Release
    courses: tuple[str, ...]
    """The release's courses that are drafts or have no quiz (empty: it has none)."""


def releases_waiting_on_course(
    *, releases: QuerySet[Release] | None = None
) -> list[WaitingRelease]:
    """Published releases (not yet with customers) whose training cannot make them
    ready: a course of theirs is a draft or has no quiz, or they have no course. The
    soonest customer date first. Two queries."""
    unfinished = Course.objects.filter(release=OuterRef("pk")).filter(
        Q(status=Course.Status.DRAFT) | ~Exists(Quiz.objects.filter(course=OuterRef("pk")))
    )
    queryset = (releases if releases is not None else Release.objects.all()).filter(
        status=Release.Status.PUBLISHED
    )
    waiting = list(
        queryset.filter(Exists(unfinished) | ~Exists(Course.objects.filter(release=OuterRef("pk"))))
        .select_related("sdk")
        .order_by("customer_available_at", "sdk__slug", "id")
    )
    slugs: dict[int, list[str]] = {}
    rows = (
        Course.objects.filter(release__in=[release.pk for release in waiting])
        .filter(Q(status=Course.Status.DRAFT) | Q(quiz__isnull=True))
        .order_by("slug")
        .values_list("release_id", "slug")
    )
    for release_id, slug in rows:
        slugs.setdefault(release_id, []).append(slug)
    return [WaitingRelease(release, tuple(slugs.get(release.pk, ()))) for release in waiting]
