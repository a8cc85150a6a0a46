"""An engineer's way through a course: lessons read, the assignment's state.

State changes are conditional UPDATEs (`... WHERE status IN (…)`), so two requests
racing (two tabs, a double click, a lesson read while the quiz is submitted) move
an assignment at most once and never backwards: `complete` and `exempt` are final.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import InvalidInput
from courses.models import Course, Lesson, Quiz
from training.models import Assignment, Attempt, Engineer, LessonProgress
from training.readiness.keep import readiness_assignment_completed
from training.selectors import progress_percent
from training.selectors.assignments import attempts_since

OPEN = (Assignment.Status.ASSIGNED, Assignment.Status.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class CourseProgress:
    """How far an engineer is through a course. The quiz, if any, counts as a step."""

    lessons_total: int
    lessons_read: int
    has_quiz: bool
    quiz_passed: bool
    read_lesson_ids: frozenset[int]
    next_lesson: Lesson | None
    """The first unread lesson in course order: where to resume."""

    @property
    def lessons_done(self) -> bool:
        return self.lessons_read >= self.lessons_total

    @property
    def done(self) -> bool:
        return self.lessons_done and (self.quiz_passed or not self.has_quiz)

    @property
    def steps_total(self) -> int:
        return self.lessons_total + int(self.has_quiz)

    @property
    def steps_done(self) -> int:
        return min(self.lessons_read, self.lessons_total) + int(self.has_quiz and self.quiz_passed)

    @property
    def percent(self) -> int:
        return progress_percent(self.steps_done, self.steps_total)


def course_progress(
    *,
    engineer: Engineer,
    course: Course,
    quiz_passed: bool = False,
    attempts_since: datetime | None = None,
) -> CourseProgress:
    """Read an engineer's progress through one course (three small queries; one, the
    lessons, when the caller has just graded a pass of the course's quiz and says so
    with `quiz_passed`: a course has at most one quiz). With `attempts_since`
    (training.selectors.assignments.attempts_since), only a quiz attempt started then
    or later counts as passing it."""
    lessons = list(
        Lesson.objects.filter(course=course)
        .annotate(
            is_read=Exists(LessonProgress.objects.filter(engineer=engineer, lesson=OuterRef("pk")))
        )
        .order_by("position")
        .only("id", "position", "title", "course_id")
    )
    read = frozenset(lesson.pk for lesson in lessons if lesson.is_read)
    if quiz_passed:
        has_quiz = passed = True
    else:
        quiz = Quiz.objects.filter(course=course).only("id").first()
        has_quiz = quiz is not None
        attempts = Attempt.objects.filter(engineer=engineer, quiz=quiz, passed=True)
        if attempts_since is not None:
            attempts = attempts.filter(started_at__gte=attempts_since)
        passed = quiz is not None and attempts.exists()
    return CourseProgress(
        lessons_total=len(lessons),
        lessons_read=len(read),
        has_quiz=has_quiz,
        quiz_passed=passed,
        read_lesson_ids=read,
        next_lesson=next((lesson for lesson in lessons if lesson.pk not in read), None),
    )


def assignment_start(*, assignment: Assignment, now: datetime | None = None) -> bool:
    """Move an assignment from `assigned` to `in_progress`; True if this call did.

    Safe to call on every lesson view or quiz start: an assignment already in
    progress, complete or exempt is left untouched.
    """
    now = now or timezone.now()
    changed = Assignment.objects.filter(pk=assignment.pk, status=Assignment.Status.ASSIGNED).update(
        status=Assignment.Status.IN_PROGRESS, started_at=now
    )
    if changed:
        assignment.status = Assignment.Status.IN_PROGRESS
        assignment.started_at = now
    return bool(changed)


# No savepoint of its own when nested: nothing here is caught and carried on from,
# so a failure rolls back the caller's whole transaction (a lesson read, a grade).
@transaction.atomic(savepoint=False)
def assignment_complete_if_done(
    *, assignment: Assignment, now: datetime | None = None, quiz_passed: bool = False
) -> bool:
    """Complete an open assignment whose course is done (every lesson read, the quiz
    passed if there is one); True if this call completed it. Never touches an
    assignment that is already complete or exempt. Completing a release's mandatory
    training is folded into the release's kept readiness counts. `quiz_passed`: the
    caller has just graded a pass of the course's quiz (course_progress)."""
    progress = course_progress(
        engineer=assignment.engineer,
        course=assignment.course,
        quiz_passed=quiz_passed,
        attempts_since=attempts_since(assignment),
    )
    if not progress.done or not counts_as_training(assignment.course, has_quiz=progress.has_quiz):
        return False
    now = now or timezone.now()
    changed = Assignment.objects.filter(pk=assignment.pk, status__in=OPEN).update(
        status=Assignment.Status.COMPLETE,
        completed_at=now,
        started_at=Coalesce("started_at", now),
    )
    if changed:
        # What the UPDATE wrote, without reading it back. (Only started_at can differ:
        # if a lesson read started the assignment since this instance was read, the
        # row keeps that earlier time; nothing below reads it.)
        assignment.status = Assignment.Status.COMPLETE
        assignment.completed_at = now
        assignment.started_at = assignment.started_at or now
        if assignment.reason == Assignment.Reason.RELEASE and assignment.mandatory:
            readiness_assignment_completed(assignment=assignment, now=now)
    return bool(changed)


def counts_as_training(course: Course, *, has_quiz: bool) -> bool:
    """Whether finishing `course` completes anything. A draft completes nothing (its
    lessons are a preview), and neither does a release's course without a quiz:
    reading is not knowing, and release training is what the gate counts."""
    if course.status == Course.Status.DRAFT:
        return False
    return has_quiz or course.release_id is None


@transaction.atomic
def lesson_mark_read(
    *, assignment: Assignment, lesson: Lesson, now: datetime | None = None
) -> bool:
    """Record that the assignment's engineer has read a lesson of its course.

    Starts the assignment and completes it when that was the last step (a course
    without a quiz). Reading a lesson twice keeps the first time. Returns True if
    the lesson was newly marked read.
    """
    if lesson.course_id != assignment.course_id:
        raise InvalidInput({"lesson": [gettext("This lesson is not part of the assigned course.")]})
    now = now or timezone.now()
    try:
        # A savepoint, so a concurrent insert of the same row leaves the outer
        # transaction usable; the unique constraint decides who wrote it.
        with transaction.atomic():
            LessonProgress.objects.create(engineer=assignment.engineer, lesson=lesson, read_at=now)
        created = True
    except IntegrityError:
        created = False
    assignment_start(assignment=assignment, now=now)
    assignment_complete_if_done(assignment=assignment, now=now)
    return created
