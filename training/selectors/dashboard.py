"""Reads for the engineer's pages: the dashboard and "My skills".

Progress is annotated in SQL (lesson counts, read counts, a passed attempt), so
the dashboard costs one query whatever the number of assignments.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from courses.models import Lesson, Quiz
from training.models import Assignment, Attempt, AuditEvent, Engineer, LessonProgress, SkillRecord
from training.selectors import progress_percent, skill_valid_until

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Progress(TypedDict):
    """What `assignments_with_progress` annotates each assignment with."""

    lessons_total: int
    lessons_read: int
    has_quiz: bool
    quiz_passed: bool


def assignments_with_progress(
    *, engineer: Engineer
) -> "QuerySet[WithAnnotations[Assignment, Progress]]":
    """The engineer's assignments with course, release and SDK joined, and
    annotated with `lessons_total`, `lessons_read`, `has_quiz` and `quiz_passed`."""
    lessons = Lesson.objects.filter(course=OuterRef("course_id"))
    read = LessonProgress.objects.filter(
        engineer=OuterRef("engineer_id"), lesson__course=OuterRef("course_id")
    )
    passes = Attempt.objects.filter(
        engineer=OuterRef("engineer_id"), quiz__course=OuterRef("course_id"), passed=True
    )
    return (
        Assignment.objects.filter(engineer=engineer)
        .select_related("course", "release__sdk", "assigned_by", "assigned_by_token")
        .annotate(
            lessons_total=Coalesce(
                Subquery(
                    lessons.order_by().values("course_id").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            lessons_read=Coalesce(
                Subquery(
                    read.order_by().values("engineer_id").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
            has_quiz=Exists(Quiz.objects.filter(course=OuterRef("course_id"))),
            # A recertification needs a pass since it was (re)assigned
            # (training.selectors.assignments.attempts_since); the rest, any pass.
            quiz_passed=Case(
                When(
                    reason=Assignment.Reason.RECERTIFICATION,
                    then=Exists(passes.filter(started_at__gte=OuterRef("assigned_at"))),
                ),
                default=Exists(passes),
                output_field=BooleanField(),
            ),
        )
        .order_by("due_at", "id")
    )


@dataclass(slots=True)
class DashboardItem:
    assignment: Assignment
    percent: int
    steps_done: int
    steps_total: int


@dataclass(slots=True)
class Dashboard:
    overdue: list[DashboardItem] = field(default_factory=list)
    due: list[DashboardItem] = field(default_factory=list)
    complete: list[DashboardItem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.due or self.complete)


def dashboard(*, engineer: Engineer, now: datetime | None = None) -> Dashboard:
    """The engineer's assignments in three groups: overdue (most overdue first), due
    (soonest first) and complete (latest first), each with its progress."""
    now = now or timezone.now()
    board = Dashboard()
    for assignment in assignments_with_progress(engineer=engineer):
        steps_total = assignment.lessons_total + int(assignment.has_quiz)
        if assignment.is_done:
            steps_done = steps_total
        else:
            steps_done = min(assignment.lessons_read, assignment.lessons_total) + int(
                assignment.has_quiz and assignment.quiz_passed
            )
        item = DashboardItem(
            assignment=assignment,
            percent=100 if assignment.is_done else progress_percent(steps_done, steps_total),
            steps_done=steps_done,
            steps_total=steps_total,
        )
        if assignment.is_done:
            board.complete.append(item)
        elif assignment.due_at < now:
            board.overdue.append(item)
        else:
            board.due.append(item)
    board.complete.sort(
        key=lambda item: item.assignment.completed_at or item.assignment.due_at, reverse=True
    )
    return board


def event_by(event: AuditEvent) -> str:
    """Who acted, as a reader sees it: the username, else the token's name, else
    what the event recorded (\"system\")."""
    if event.actor is not None:
        return event.actor.get_username()
    if event.token is not None:
        return event.token.name
    return str(event.details.get("by") or "system")


@dataclass(frozen=True, slots=True)
class Notice:
    """A lead's exception for me, on the dashboard: more attempts, or a new due date."""

    kind: str  # an AuditEvent.Kind: assignment_attempts_granted or assignment_extended
    by: str
    course: str
    assignment_id: int
    reason: str
    extra: int
    due_at: datetime
    at: datetime

    @property
    def granted(self) -> bool:
        return self.kind == AuditEvent.Kind.ASSIGNMENT_ATTEMPTS_GRANTED


def dashboard_notices(*, engineer: Engineer, limit: int = 10) -> list[Notice]:
    """The attempts granted and due dates extended on my open assignments, newest
    first, with who did it and why. One query (auditevent_assignment_idx)."""
    events = (
        AuditEvent.objects.filter(
            assignment__engineer=engineer,
            kind__in=[
                AuditEvent.Kind.ASSIGNMENT_ATTEMPTS_GRANTED,
                AuditEvent.Kind.ASSIGNMENT_EXTENDED,
            ],
        )
        .exclude(assignment__status__in=Assignment.DONE)
        .select_related("actor", "token", "assignment__course")
        .order_by("-created_at", "-id")[:limit]
    )
    notices = []
    for event in events:
        assignment = event.assignment
        assert assignment is not None  # filtered on it above
        notices.append(
            Notice(
                kind=event.kind,
                by=event_by(event),
                course=assignment.course.title,
                assignment_id=assignment.pk,
                reason=str(event.details.get("reason", "")),
                extra=int(event.details.get("extra", 0)),
                due_at=assignment.due_at,
                at=event.created_at,
            )
        )
    return notices


def skill_records(*, engineer: Engineer) -> QuerySet[SkillRecord]:
    """The engineer's skill records with the skill and the evidence's course joined."""
    return (
        SkillRecord.objects.filter(engineer=engineer)
        .select_related("skill", "evidence__quiz__course")
        .order_by("skill__name", "skill__slug")
    )


@dataclass(frozen=True, slots=True)
class SkillStanding:
    """A skill record and how long it stays current (see `skill_valid_until`)."""

    record: SkillRecord
    valid_until: datetime
    # Whole days left, rounded down (0: less than a day); negative once expired.
    days_left: int
    expired: bool
    # Within PREFLIGHT_RECERTIFY_DAYS of expiring: when recertification is assigned.
    expiring: bool


def skill_standings(*, engineer: Engineer, now: datetime | None = None) -> list[SkillStanding]:
    """ "My skills": the engineer's records (as `skill_records`, one query), each with
    when it expires and whether it has, or soon will."""
    now = now or timezone.now()
    window = timedelta(days=settings.PREFLIGHT_RECERTIFY_DAYS)
    standings = []
    for record in skill_records(engineer=engineer):
        valid_until = skill_valid_until(record.verified_at)
        left = valid_until - now
        standings.append(
            SkillStanding(
                record=record,
                valid_until=valid_until,
                days_left=left // timedelta(days=1),
                expired=left < timedelta(0),
                expiring=timedelta(0) <= left <= window,
            )
        )
    return standings
