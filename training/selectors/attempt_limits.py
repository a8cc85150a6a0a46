"""How many quiz attempts an assignment allows, how many are used, and who is
locked out: one rule for the API, the lead pages and the quiz pages.

An assignment allows its quiz's `max_attempts` plus the attempts a lead granted it
(`Assignment.extra_attempts`). Locked out: an open assignment whose quiz has as
many failed attempts as it allows, and no pass — the engineer cannot go on until
a lead grants another attempt.
"""

from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from training.models import Assignment, Attempt

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class AttemptFigures(TypedDict):
    """What `with_attempt_figures` annotates each assignment with."""

    attempts_used: int
    attempts_allowed: int | None
    locked_out: bool


def attempts_allowed(*, max_attempts: int, assignment: Assignment | None) -> int:
    """The attempts an engineer may make at a quiz under `assignment` (None: no
    assignment, the quiz's own limit)."""
    return max_attempts + (assignment.extra_attempts if assignment is not None else 0)


def _count(attempts: QuerySet[Attempt]) -> Coalesce:
    return Coalesce(
        Subquery(
            attempts.order_by().values("engineer_id").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def with_attempt_figures(
    queryset: QuerySet[Assignment],
) -> "QuerySet[WithAnnotations[Assignment, AttemptFigures]]":
    """`queryset` annotated with `attempts_used` (attempts started at the course's
    quiz), `attempts_allowed` (None when the course has no quiz) and `locked_out`.
    Correlated subqueries on the (engineer, quiz, number) index: a page of
    assignments stays one query."""
    mine = Attempt.objects.filter(
        engineer_id=OuterRef("engineer_id"), quiz__course_id=OuterRef("course_id")
    )
    open_ = ~Q(status__in=Assignment.DONE)
    return queryset.annotate(
        attempts_used=_count(mine),
        attempts_failed=_count(mine.filter(passed=False)),
        quiz_passed_=Exists(mine.filter(passed=True)),
        attempts_allowed=ExpressionWrapper(
            F("course__quiz__max_attempts") + F("extra_attempts"), output_field=IntegerField()
        ),
    ).annotate(
        locked_out=ExpressionWrapper(
            open_
            & Q(attempts_allowed__isnull=False)
            & Q(attempts_failed__gte=F("attempts_allowed"))
            & Q(quiz_passed_=False),
            output_field=BooleanField(),
        ),
    )
