"""The lead's page of one engineer: profile, assignments, skills, recent activity.

Looked up through the lead's scope (training.selectors.access), never fetched first
and refused after. Every read is a fixed number of queries, whatever the number of
assignments, skill records or events: the page stays flat from 10 to 500 rows.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from training.models import Assignment, Attempt, AuditEvent, Engineer, LessonProgress
from training.selectors.access import LeadScope, manageable_assignments, visible_engineers
from training.selectors.attempt_limits import with_attempt_figures
from training.selectors.dashboard import event_by

RECENT_ACTIVITY = 20


def lead_engineer_get(*, scope: LeadScope, username: str) -> Engineer | None:
    """The engineer `username` when the lead may see them (a team they lead, or
    anyone for someone who sees everything); None otherwise. One query."""
    return (
        visible_engineers(scope.user)
        .select_related("user", "team")
        .filter(user__username=username)
        .first()
    )


def engineer_assignments(*, engineer: Engineer) -> QuerySet[Assignment]:
    """Every assignment of the engineer, open ones first (soonest due first), with
    the attempt figures (training.selectors.attempt_limits) and who assigned it.
    One query."""
    return (
        with_attempt_figures(Assignment.objects.filter(engineer=engineer))
        .select_related("course", "release__sdk", "assigned_by", "assigned_by_token")
        .order_by("completed_at", "due_at", "id")
    )


def manageable_assignment_ids(*, user: Any, engineer: Engineer) -> set[int]:
    """Which of the engineer's assignments `user` may grant, extend or nudge (never
    their own). One query."""
    return set(manageable_assignments(user).filter(engineer=engineer).values_list("pk", flat=True))


@dataclass(frozen=True, slots=True)
class Activity:
    """One line of an engineer's recent activity."""

    at: datetime
    kind: str  # "lesson", "attempt", or an AuditEvent.Kind
    course: str
    detail: str  # a lesson's title; a score; an event's reason
    by: str = ""
    passed: bool | None = None


def engineer_activity(*, engineer: Engineer, limit: int = RECENT_ACTIVITY) -> list[Activity]:
    """The engineer's latest lessons read, attempts submitted, and the events on
    their assignments (grants, extensions, nudges, manual assignments), newest
    first, at most `limit`. Three queries of at most `limit` rows each, merged."""
    lessons = (
        LessonProgress.objects.filter(engineer=engineer)
        .select_related("lesson__course")
        .order_by("-read_at", "-id")[:limit]
    )
    attempts = (
        Attempt.objects.filter(engineer=engineer, submitted_at__isnull=False)
        .select_related("quiz__course")
        .only("submitted_at", "score", "passed", "quiz__course__title")
        .order_by("-submitted_at", "-id")[:limit]
    )
    events = (
        AuditEvent.objects.filter(assignment__engineer=engineer)
        .select_related("actor", "token", "assignment__course")
        .order_by("-created_at", "-id")[:limit]
    )
    items = [
        Activity(
            at=row.read_at, kind="lesson", course=row.lesson.course.title, detail=row.lesson.title
        )
        for row in lessons
    ]
    items += [
        Activity(
            at=row.submitted_at or row.started_at,
            kind="attempt",
            course=row.quiz.course.title,
            detail="" if row.score is None else f"{row.score}%",
            passed=row.passed,
        )
        for row in attempts
    ]
    items += [
        Activity(
            at=event.created_at,
            kind=event.kind,
            course=event.assignment.course.title if event.assignment else "",
            detail=str(event.details.get("reason", "")),
            by=event_by(event),
        )
        for event in events
    ]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def local_now(engineer: Engineer) -> datetime:
    """Now on the engineer's clock."""
    return timezone.localtime(timezone.now(), engineer.zone)
