import pytest
from django.utils import timezone

from core.errors import InvalidInput
from courses.models import Course
from tests.factories import CourseFactory, LessonFactory
from tests.training.quiz_course import build_quiz_course
from training.models import Assignment, Attempt, LessonProgress
from training.services.progress import (
    assignment_complete_if_done,
    assignment_start,
    course_progress,
    lesson_mark_read,
)

pytestmark = pytest.mark.django_db


def test_reading_a_lesson_starts_the_assignment(engineer):
    qc = build_quiz_course(engineer=engineer)
    assert lesson_mark_read(assignment=qc.assignment, lesson=qc.lessons[0]) is True
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.IN_PROGRESS
    assert qc.assignment.started_at is not None


def test_reading_a_lesson_twice_keeps_one_record_and_the_first_time(engineer):
    qc = build_quiz_course(engineer=engineer)
    lesson_mark_read(assignment=qc.assignment, lesson=qc.lessons[0])
    first = LessonProgress.objects.get(engineer=engineer, lesson=qc.lessons[0]).read_at
    assert lesson_mark_read(assignment=qc.assignment, lesson=qc.lessons[0]) is False
    assert LessonProgress.objects.get(engineer=engineer, lesson=qc.lessons[0]).read_at == first


def test_a_lesson_of_another_course_is_refused(engineer):
    qc = build_quiz_course(engineer=engineer)
    other = LessonFactory(course=CourseFactory(), position=1)
    with pytest.raises(InvalidInput):
        lesson_mark_read(assignment=qc.assignment, lesson=other)
    assert not LessonProgress.objects.exists()


def test_a_release_course_without_quiz_is_never_completed_by_reading(engineer):
    qc = build_quiz_course(engineer=engineer, with_quiz=False)
    lesson_mark_read(assignment=qc.assignment, lesson=qc.lessons[0])
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.IN_PROGRESS
    lesson_mark_read(assignment=qc.assignment, lesson=qc.lessons[1])
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.IN_PROGRESS
    assert qc.assignment.completed_at is None


def test_an_onboarding_course_without_quiz_completes_when_every_lesson_is_read(engineer):
    qc = build_quiz_course(engineer=engineer, with_quiz=False)
    Course.objects.filter(pk=qc.course.pk).update(release=None)
    Assignment.objects.filter(pk=qc.assignment.pk).update(
        release=None, reason=Assignment.Reason.ONBOARDING
    )
    qc.assignment.refresh_from_db()
    for lesson in qc.lessons:
        lesson_mark_read(assignment=qc.assignment, lesson=lesson)
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.COMPLETE


def test_a_draft_course_is_never_completed_even_with_its_quiz_passed(engineer):
    qc = build_quiz_course(engineer=engineer)
    Course.objects.filter(pk=qc.course.pk).update(status=Course.Status.DRAFT)
    qc.assignment.refresh_from_db()
    for lesson in qc.lessons:
        lesson_mark_read(assignment=qc.assignment, lesson=lesson)
    Attempt.objects.create(
        engineer=engineer,
        quiz=qc.quiz,
        number=1,
        pass_mark=80,
        snapshot={},
        submitted_at=timezone.now(),
        score=100,
        passed=True,
    )
    assert not assignment_complete_if_done(assignment=qc.assignment)
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.IN_PROGRESS


def test_course_with_quiz_is_not_complete_on_lessons_alone(engineer):
    qc = build_quiz_course(engineer=engineer)
    for lesson in qc.lessons:
        lesson_mark_read(assignment=qc.assignment, lesson=lesson)
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.IN_PROGRESS
    progress = course_progress(engineer=engineer, course=qc.course)
    assert (progress.steps_done, progress.steps_total, progress.percent) == (2, 3, 66)
    assert progress.next_lesson is None


def test_progress_resumes_at_the_first_unread_lesson(engineer):
    qc = build_quiz_course(engineer=engineer)
    lesson_mark_read(assignment=qc.assignment, lesson=qc.lessons[0])
    progress = course_progress(engineer=engineer, course=qc.course)
    assert progress.next_lesson == qc.lessons[1]
    assert progress.read_lesson_ids == {qc.lessons[0].pk}


def test_start_moves_only_an_assigned_assignment(engineer):
    qc = build_quiz_course(engineer=engineer)
    assert assignment_start(assignment=qc.assignment) is True
    assert assignment_start(assignment=qc.assignment) is False


def test_complete_and_exempt_are_final(engineer):
    qc = build_quiz_course(engineer=engineer, with_quiz=False)
    Assignment.objects.filter(pk=qc.assignment.pk).update(
        status=Assignment.Status.EXEMPT, completed_at=qc.assignment.assigned_at
    )
    qc.assignment.refresh_from_db()
    for lesson in qc.lessons:
        lesson_mark_read(assignment=qc.assignment, lesson=lesson)
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.EXEMPT
    assert assignment_start(assignment=qc.assignment) is False
    assert assignment_complete_if_done(assignment=qc.assignment) is False


def test_complete_needs_a_passed_attempt(engineer):
    qc = build_quiz_course(engineer=engineer)
    for lesson in qc.lessons:
        lesson_mark_read(assignment=qc.assignment, lesson=lesson)
    assert assignment_complete_if_done(assignment=qc.assignment) is False
    Attempt.objects.create(
        engineer=engineer,
        quiz=qc.quiz,
        number=1,
        pass_mark=100,
        snapshot={"questions": []},
        submitted_at=qc.assignment.assigned_at,
        score=100,
        passed=True,
    )
    assert assignment_complete_if_done(assignment=qc.assignment) is True
    assert qc.assignment.status == Assignment.Status.COMPLETE
