"""The per-question rows of graded attempts that item analysis reads
(training.models.AttemptAnswer): one INSERT per graded attempt, never a loop of
statements."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from training.grading import answer_rows
from training.models import Attempt, AttemptAnswer


def _seconds(attempt: Attempt) -> float | None:
    if attempt.submitted_at is None or attempt.started_at is None:
        return None
    return max(0.0, (attempt.submitted_at - attempt.started_at).total_seconds())


def rows_of(attempt: Attempt, *, now: datetime) -> list[AttemptAnswer]:
    """The rows of a graded attempt (its marks, essay grades and times as they are
    on the instance: no query)."""
    return [
        AttemptAnswer(
            attempt_id=attempt.pk,
            quiz_id=attempt.quiz_id,
            engineer_id=attempt.engineer_id,
            graded_at=now,
            **row,
        )
        for row in answer_rows(
            snapshot=attempt.snapshot,
            answers=attempt.answers or {},
            marks=attempt.marks or {},
            essay_grades=attempt.essay_grades or {},
            seconds=_seconds(attempt),
        )
    ]


# No savepoint of its own: a failure rolls back the grading that called it.
@transaction.atomic(savepoint=False)
def attempt_answers_write(
    *, attempts: Iterable[Attempt], replace: bool = False, now: datetime | None = None
) -> int:
    """Write the rows of these graded attempts: one INSERT (per 1,000 rows); with
    `replace` (a regrade), their old rows are deleted first, in one DELETE. Call it
    in the grading's transaction. Returns rows written."""
    now = now or timezone.now()
    attempts = [attempt for attempt in attempts if attempt.passed is not None]
    if replace:
        AttemptAnswer.objects.filter(attempt__in=[a.pk for a in attempts]).delete()
    rows = [row for attempt in attempts for row in rows_of(attempt, now=now)]
    AttemptAnswer.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
