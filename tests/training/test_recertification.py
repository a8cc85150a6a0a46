"""Recertification: the course that renews a skill, assigned before the record expires."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from core.actors import SYSTEM
from core.errors import Conflict
from courses.models import Course
from courses.services.courses import course_put
from tests.factories import AssignmentFactory, EngineerFactory, SkillFactory, SkillRecordFactory
from tests.settings_process import start_settings
from training import tasks
from training.models import Assignment, Attempt, SkillLevel, SkillRecord
from training.selectors.dashboard import assignments_with_progress
from training.services.attempts import attempt_start, attempt_submit
from training.services.progress import lesson_mark_read
from training.services.recertification import recertification_assign

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
VALID = timedelta(days=365)


@pytest.fixture(autouse=True)
def clock(time_machine, settings):
    settings.PREFLIGHT_SKILL_VALID_DAYS = 365
    settings.PREFLIGHT_RECERTIFY_DAYS = 30
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def push(db):
    return SkillFactory(slug="push", name="Push notifications")


@pytest.fixture
def refresher(push):
    """An onboarding-style course (no release) whose quiz tests push and that
    recertifies it."""
    document = {
        "title": "Push refresher",
        "recertifies": ["push"],
        "lessons": [{"title": "Tokens", "body": "Push tokens rotate."}],
        "quiz": {
            "pass_mark": 100,
            "questions": [
                {
                    "prompt": "When does a push token change?",
                    "skill": "push",
                    "choices": [{"text": "On reinstall", "correct": True}, {"text": "Never"}],
                }
            ],
        },
    }
    course, _ = course_put(slug="push-refresher", document=document, actor=SYSTEM)
    return course


def expiring_in(engineer, skill, days: float, *, level: int = SkillLevel.PROFICIENT):
    return SkillRecordFactory(
        engineer=engineer,
        skill=skill,
        level=level,
        verified_at=NOW + timedelta(days=days) - VALID,
    )


def pass_quiz(engineer, course: Course, *, right: bool = True) -> Attempt:
    attempt = attempt_start(engineer=engineer, quiz=course.quiz)
    answers = {
        str(q["id"]): [c["key"] for c in q["choices"] if c["correct"] == right][:1]
        for q in attempt.snapshot["questions"]
    }
    return attempt_submit(attempt=attempt, answers=answers)


def read_lessons(engineer, course: Course) -> None:
    assignment = Assignment.objects.get(engineer=engineer, course=course)
    for lesson in course.lessons.all():
        lesson_mark_read(assignment=assignment, lesson=lesson)


def test_a_record_expiring_within_the_window_gets_the_course_due_at_the_expiry(
    engineer, push, refresher
):
    record = expiring_in(engineer, push, 10)

    assert recertification_assign() == {"created": 1, "reopened": 0}

    assignment = Assignment.objects.get(engineer=engineer, course=refresher)
    expiry = record.verified_at + VALID
    assert assignment.reason == Assignment.Reason.RECERTIFICATION
    assert assignment.mandatory
    assert assignment.status == Assignment.Status.ASSIGNED
    assert assignment.assigned_at == NOW
    assert assignment.due_at == expiry
    assert assignment.recertifies_until == expiry
    assert assignment.assigned_by is None


def test_running_the_task_twice_assigns_once(engineer, push, refresher):
    expiring_in(engineer, push, 10)
    assert tasks.assign_recertification() == {"created": 1, "reopened": 0}
    assert tasks.assign_recertification() == {"created": 0, "reopened": 0}
    assert Assignment.objects.filter(engineer=engineer).count() == 1


def test_an_inactive_engineer_is_not_assigned(engineer, push, refresher):
    expiring_in(engineer, push, 10)
    engineer.active = False
    engineer.save(update_fields=["active"])
    assert recertification_assign() == {"created": 0, "reopened": 0}


@pytest.mark.parametrize("days", [31, 200, -1])
def test_a_record_far_from_expiry_or_already_expired_is_not_assigned(
    engineer, push, refresher, days
):
    expiring_in(engineer, push, days)
    assert recertification_assign() == {"created": 0, "reopened": 0}
    assert not Assignment.objects.exists()


def test_a_draft_course_or_one_without_a_quiz_is_not_assigned(engineer, push, refresher):
    expiring_in(engineer, push, 10)
    Course.objects.filter(pk=refresher.pk).update(status=Course.Status.DRAFT)
    assert recertification_assign()["created"] == 0
    Course.objects.filter(pk=refresher.pk).update(status=Course.Status.PUBLISHED)
    refresher.quiz.delete()
    assert recertification_assign()["created"] == 0


def test_zero_days_assigns_nothing(engineer, push, refresher, settings):
    settings.PREFLIGHT_RECERTIFY_DAYS = 0
    expiring_in(engineer, push, 0.5)
    assert recertification_assign() == {"created": 0, "reopened": 0}


def test_the_earliest_expiry_of_the_courses_skills_sets_the_due_date(engineer, push, refresher):
    reconnection = SkillFactory(slug="reconnection")
    refresher.recertifies.add(reconnection)
    expiring_in(engineer, push, 20)
    soon = expiring_in(engineer, reconnection, 5)
    recertification_assign()
    assignment = Assignment.objects.get(engineer=engineer, course=refresher)
    assert assignment.due_at == soon.verified_at + VALID


def test_a_pass_renews_the_record_and_completes_the_assignment(engineer, push, refresher, clock):
    record = expiring_in(engineer, push, 10)
    recertification_assign()
    clock.move_to(NOW + timedelta(days=2), tick=False)
    read_lessons(engineer, refresher)

    attempt = pass_quiz(engineer, refresher)

    assert attempt.passed
    record.refresh_from_db()
    assert record.verified_at == NOW + timedelta(days=2)
    assert record.evidence == attempt
    assignment = Assignment.objects.get(engineer=engineer, course=refresher)
    assert assignment.status == Assignment.Status.COMPLETE
    # The record now expires a year on: nothing more to assign.
    assert recertification_assign() == {"created": 0, "reopened": 0}


def test_a_pass_renews_a_recertified_record_above_what_the_quiz_shows(engineer, push, refresher):
    # A quiz proves at most Proficient; an Expert is renewed, not lowered.
    record = expiring_in(engineer, push, 10, level=SkillLevel.EXPERT)
    recertification_assign()
    pass_quiz(engineer, refresher)
    record.refresh_from_db()
    assert record.level == SkillLevel.EXPERT
    assert record.verified_at == NOW


def test_the_next_expiry_reopens_the_assignment_for_a_new_pass(engineer, push, refresher, clock):
    record = expiring_in(engineer, push, 10)
    recertification_assign()
    read_lessons(engineer, refresher)
    first = pass_quiz(engineer, refresher)
    completed = Assignment.objects.get(engineer=engineer, course=refresher)
    assert completed.status == Assignment.Status.COMPLETE

    # Eleven months on, the renewed record is within its window again.
    later = NOW + timedelta(days=340)
    clock.move_to(later, tick=False)
    assert recertification_assign() == {"created": 0, "reopened": 1}
    assert recertification_assign() == {"created": 0, "reopened": 0}

    assignment = Assignment.objects.get(engineer=engineer, course=refresher)
    record.refresh_from_db()
    assert assignment.status == Assignment.Status.ASSIGNED
    assert assignment.completed_at is None and assignment.started_at is None
    assert assignment.assigned_at == later
    assert assignment.due_at == assignment.recertifies_until == record.verified_at + VALID
    assert assignment.due_at == NOW + VALID
    # Last year's pass does not count: the dashboard shows the quiz to do.
    item = assignments_with_progress(engineer=engineer).get(pk=assignment.pk)
    assert not item.quiz_passed

    second = pass_quiz(engineer, refresher)
    assert second.number == first.number + 1
    assignment.refresh_from_db()
    record.refresh_from_db()
    assert assignment.status == Assignment.Status.COMPLETE
    assert record.verified_at == later and record.evidence == second


def test_a_reopened_recertification_allows_the_quizs_attempts_again(
    engineer, push, refresher, clock
):
    refresher.quiz.max_attempts = 2
    refresher.quiz.save(update_fields=["max_attempts"])
    expiring_in(engineer, push, 10)
    recertification_assign()
    read_lessons(engineer, refresher)
    pass_quiz(engineer, refresher, right=False)
    pass_quiz(engineer, refresher)
    clock.move_to(NOW + timedelta(days=340), tick=False)
    recertification_assign()
    # Two attempts used last year; this cycle has two of its own.
    assert not pass_quiz(engineer, refresher, right=False).passed
    assert pass_quiz(engineer, refresher).passed
    with pytest.raises(Conflict):
        attempt_start(engineer=engineer, quiz=refresher.quiz)


def test_an_open_assignment_of_the_course_is_left_alone(engineer, push, refresher):
    expiring_in(engineer, push, 10)
    lead_made = AssignmentFactory(
        engineer=engineer,
        course=refresher,
        reason=Assignment.Reason.LEAD,
        due_at=NOW + timedelta(days=60),
    )
    assert recertification_assign() == {"created": 0, "reopened": 0}
    lead_made.refresh_from_db()
    assert lead_made.reason == Assignment.Reason.LEAD
    assert lead_made.due_at == NOW + timedelta(days=60)


def test_a_completed_onboarding_of_the_course_is_reopened_as_recertification(
    engineer, push, refresher
):
    expiring_in(engineer, push, 10)
    AssignmentFactory(
        engineer=engineer,
        course=refresher,
        reason=Assignment.Reason.ONBOARDING,
        assigned_at=NOW - timedelta(days=400),
        due_at=NOW - timedelta(days=380),
        status=Assignment.Status.COMPLETE,
        completed_at=NOW - timedelta(days=390),
    )
    assert recertification_assign() == {"created": 0, "reopened": 1}
    assignment = Assignment.objects.get(engineer=engineer, course=refresher)
    assert assignment.reason == Assignment.Reason.RECERTIFICATION
    assert assignment.status == Assignment.Status.ASSIGNED


def test_completed_release_training_is_never_reopened(engineer, push, refresher):
    expiring_in(engineer, push, 10)
    AssignmentFactory(
        engineer=engineer,
        course=refresher,
        reason=Assignment.Reason.RELEASE,
        assigned_at=NOW - timedelta(days=400),
        due_at=NOW - timedelta(days=380),
        status=Assignment.Status.COMPLETE,
        completed_at=NOW - timedelta(days=390),
    )
    assert recertification_assign() == {"created": 0, "reopened": 0}
    assert Assignment.objects.get(engineer=engineer).reason == Assignment.Reason.RELEASE


def test_one_statement_set_assigns_many_engineers(team, push, refresher, django_assert_num_queries):
    for i in range(30):
        expiring_in(EngineerFactory(team=team), push, 1 + i % 20)
    with django_assert_num_queries(4):  # savepoint, UPDATE, INSERT, release
        assert recertification_assign() == {"created": 30, "reopened": 0}


def test_the_engineer_sees_the_recertification_on_the_dashboard(client, engineer, push, refresher):
    expiring_in(engineer, push, 10)
    recertification_assign()
    client.force_login(engineer.user)
    page = client.get(reverse("home")).text
    assert "Push refresher" in page
    assert "Recertification" in page
    page = client.get(reverse("skills")).text
    assert "expires in 10 days" in page


def test_a_passed_attempt_writes_no_record_for_a_recertified_skill_it_does_not_test(
    engineer, push, refresher
):
    other = SkillFactory(slug="presence")
    refresher.recertifies.add(other)
    pass_quiz(engineer, refresher)
    assert not SkillRecord.objects.filter(engineer=engineer, skill=other).exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PREFLIGHT_RECERTIFY_DAYS": "soon"}, "PREFLIGHT_RECERTIFY_DAYS must be a whole number"),
        ({"PREFLIGHT_RECERTIFY_DAYS": "-1"}, "PREFLIGHT_RECERTIFY_DAYS must be between 0 and 364"),
        (
            {"PREFLIGHT_SKILL_VALID_DAYS": "90", "PREFLIGHT_RECERTIFY_DAYS": "90"},
            "PREFLIGHT_RECERTIFY_DAYS must be between 0 and 89",
        ),
    ],
)
def test_a_bad_recertify_days_stops_the_process_naming_it(env, message):
    result = start_settings({"SECRET_KEY": "x" * 50, **env})
    assert result.returncode != 0
    assert message in result.stderr


def test_recertify_days_defaults_to_30():
    code = "from django.conf import settings; print(settings.PREFLIGHT_RECERTIFY_DAYS)"
    result = start_settings({"SECRET_KEY": "x" * 50}, code=code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "30"


def test_a_reopened_recertifications_quiz_page_offers_a_new_attempt(
    client, engineer, push, refresher, clock
):
    expiring_in(engineer, push, 10)
    recertification_assign()
    read_lessons(engineer, refresher)
    pass_quiz(engineer, refresher)
    clock.move_to(NOW + timedelta(days=340), tick=False)
    recertification_assign()
    assignment = Assignment.objects.get(engineer=engineer, course=refresher)
    client.force_login(engineer.user)
    page = client.get(reverse("quiz", args=[assignment.pk])).text
    assert "You have passed this quiz." not in page
    assert "Start the quiz" in page
