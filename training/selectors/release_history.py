"""Reads for the release history and the pages of releases that are not open:
every release of my teams' SDKs (drafts, published, available, withdrawn), a
draft's features, courses and what publishing it would assign, and an available
release's gate decision.

Every read is a fixed number of queries whatever the number of releases or
engineers: the history's per-release figures are subqueries of its one SELECT, the
draft's engineers one GROUP BY.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from courses.models import Course, Feature, Quiz, Release
from training.models import AuditEvent, Engineer
from training.selectors.access import LeadScope

# The audit events that record the gate's decision: marked available when ready,
# or overridden (training.services.releases.release_mark_available).
GATE_KINDS = (AuditEvent.Kind.RELEASE_AVAILABLE, AuditEvent.Kind.RELEASE_OVERRIDE)


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of `queryset` (filtered on OuterRef("pk")) as a scalar subquery: one
    per release row, never a join that would multiply the rows of another count."""
    return Coalesce(
        Subquery(
            queryset.order_by().values("release_id").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def release_history(
    *,
    scope: LeadScope,
    sdk: str | None = None,
    status: str | None = None,
    customer_from: date | None = None,
    customer_to: date | None = None,
) -> QuerySet[Release]:
    """Every release of my teams' SDKs (all SDKs for those who see everything),
    newest customer date first, filtered by SDK slug, status and customer date
    (days in the current time zone, both ends included).

    Each release carries `n_features`, `n_courses`, `n_courses_published` and
    `overridden` (the gate was overridden), computed in the same SELECT: one query
    per page whatever the number of releases."""
    releases = scope.releases()
    if sdk:
        releases = releases.filter(sdk__slug=sdk)
    if status:
        releases = releases.filter(status=status)
    zone = timezone.get_current_timezone()
    if customer_from:
        releases = releases.filter(
            customer_available_at__gte=datetime.combine(customer_from, time.min, tzinfo=zone)
        )
    if customer_to:
        releases = releases.filter(
            customer_available_at__lte=datetime.combine(customer_to, time.max, tzinfo=zone)
        )
    features = Feature.objects.filter(release_id=OuterRef("pk"))
    courses = Course.objects.filter(release_id=OuterRef("pk"))
    return releases.annotate(
        n_features=_count(features),
        n_courses=_count(courses),
        n_courses_published=_count(courses.filter(status=Course.Status.PUBLISHED)),
        overridden=Exists(
            AuditEvent.objects.filter(
                release_id=OuterRef("pk"), kind=AuditEvent.Kind.RELEASE_OVERRIDE
            )
        ),
    ).order_by("-customer_available_at", "sdk__slug", "-sort_key")


def history_sdks(*, scope: LeadScope) -> list[tuple[str, str]]:
    """(slug, name) of the SDKs whose releases the history may show, by slug."""
    return list(
        scope.releases().order_by("sdk__slug").values_list("sdk__slug", "sdk__name").distinct()
    )


# --- a draft release -------------------------------------------------------------------


class CourseState:
    """Where a release's training stands before it is published."""

    NONE = "none"  # publishing makes a draft course from the features
    DRAFT = "draft"  # a draft never makes the release ready
    PUBLISHED = "published"


@dataclass(frozen=True, slots=True)
class PublishGroup:
    """Engineers publishing would assign: one team's, in one region."""

    team: str
    region: str
    engineers: int


def release_features(*, release: Release) -> list[Feature]:
    """The release's features in order, with their skills. Two queries."""
    return list(
        Feature.objects.filter(release=release)
        .prefetch_related("skills")
        .order_by("position", "key")
    )


def release_courses(*, release: Release) -> list[Course]:
    """The release's courses with `n_lessons` and `has_quiz`, by slug. One query."""
    return list(
        Course.objects.filter(release=release)
        .annotate(
            n_lessons=Count("lessons", distinct=True),
            has_quiz=Exists(Quiz.objects.filter(course_id=OuterRef("pk"))),
        )
        .only("id", "slug", "title", "status", "release_id")
        .order_by("slug")
    )


def course_state(courses: list[Course]) -> str:
    """A CourseState read off the release's courses (no query): published when one
    is published with a quiz (what readiness needs), else draft, else none."""
    if not courses:
        return CourseState.NONE
    if any(c.status == Course.Status.PUBLISHED and c.has_quiz for c in courses):  # type: ignore[attr-defined]
        return CourseState.PUBLISHED
    return CourseState.DRAFT


def publish_groups(*, release: Release, scope: LeadScope) -> list[PublishGroup]:
    """The engineers publishing would assign now — active engineers on a team that
    supports the release's SDK — counted per team and region, of my teams only (every
    team for those who see everything). One GROUP BY query. Engineers whose skill
    records already cover the release are among them: publishing records them as
    exempt instead of assigning them."""
    engineers = Engineer.objects.filter(active=True, team__sdks=release.sdk_id)
    if not scope.everything:
        engineers = engineers.filter(team_id__in=scope.team_ids)
    rows = (
        engineers.values("team__name", "region")
        .annotate(n=Count("pk", distinct=True))
        .order_by("team__name", "region")
    )
    return [
        PublishGroup(team=row["team__name"], region=row["region"], engineers=row["n"])
        for row in rows
    ]


def publish_total(*, release: Release) -> int:
    """Every engineer publishing would assign, on every team (the readiness of the
    release will count them all). One query."""
    return Engineer.objects.filter(active=True, team__sdks=release.sdk_id).count()


# --- an available release --------------------------------------------------------------


def release_gate_decision(*, release: Release) -> AuditEvent | None:
    """The audit event that made the release available — the gate passed
    (release_available) or overridden (release_override) — with who made it (a
    person or a token) and the readiness at that moment in its details. One query."""
    return (
        AuditEvent.objects.filter(release=release, kind__in=GATE_KINDS)
        .select_related("actor", "token")
        .order_by("-created_at", "-id")
        .first()
    )
