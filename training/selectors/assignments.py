"""Reading assignments: the API list, filtered and narrowed to what the reader may see."""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from training.models import Assignment
from training.selectors.access import manageable_assignments, visible_assignments
from training.selectors.attempt_limits import with_attempt_figures


def attempts_since(assignment: Assignment | None) -> datetime | None:
    """When the quiz attempts that count for `assignment` begin (None: all of them).

    A recertification asks for a new pass: only attempts started since it was
    (re)assigned count, for being passed and against the attempt limit; a pass of
    the last cycle must not complete the next one. Every other assignment counts
    every attempt of the engineer at the course's quiz."""
    if assignment is not None and assignment.reason == Assignment.Reason.RECERTIFICATION:
        return assignment.assigned_at
    return None


def assignments_visible_to(user) -> QuerySet[Assignment]:
    """A signed-in person's own assignments and those of the engineers they may see
    (training.selectors.access); machine clients (user None) see all."""
    return visible_assignments(user)


def assignments_manageable_by(user) -> QuerySet[Assignment]:
    """The assignments a signed-in person may change by hand; machine clients
    (user None) may change any (training.selectors.access)."""
    return manageable_assignments(user)


def assignment_item(*, queryset: QuerySet[Assignment], pk: int) -> Assignment | None:
    """One assignment of `queryset`, joined and annotated as an API item."""
    return assignments_list(queryset=queryset.filter(pk=pk)).first()


def assignments_list(
    *,
    queryset: QuerySet[Assignment] | None = None,
    engineer: str | None = None,
    course: str | None = None,
    sdk: str | None = None,
    version: str | None = None,
    status: str | None = None,
    overdue: bool | None = None,
) -> QuerySet[Assignment]:
    """Assignments, soonest due first, joined with what the API item shows (engineer's
    user, course, release and its SDK, who assigned it) and annotated with the
    attempt figures (training.selectors.attempt_limits), so one page is one query.

    Filters: engineer username, course slug, release SDK slug, release version
    (normalised, as `str(Version)`), status, and overdue (past due and not done).
    """
    if queryset is None:
        queryset = Assignment.objects.all()
    if engineer:
        queryset = queryset.filter(engineer__user__username=engineer)
    if course:
        queryset = queryset.filter(course__slug=course)
    if sdk:
        queryset = queryset.filter(release__sdk__slug=sdk)
    if version:
        queryset = queryset.filter(release__version=version)
    if status:
        queryset = queryset.filter(status=status)
    if overdue is not None:
        late = ~Q(status__in=Assignment.DONE) & Q(due_at__lt=timezone.now())
        queryset = queryset.filter(late if overdue else ~late)
    return with_attempt_figures(
        queryset.select_related(
            "engineer__user", "course", "release__sdk", "assigned_by", "assigned_by_token"
        )
    ).order_by("due_at", "id")
