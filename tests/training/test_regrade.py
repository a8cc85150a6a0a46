"""Regrading the attempts that answered a question whose key was wrong
(training.services.regrade)."""

import pytest
from django.core import mail

from core.actors import SYSTEM, Actor
from core.errors import NotFound
from courses.models import Question
from tests.factories import EngineerFactory, UserFactory
from tests.training.regrade_course import (
    RIGHT,
    SLUG,
    WRONG,
    answer,
    regrade_course,
    regrade_document,
)
from training.models import (
    Assignment,
    Attempt,
    AuditEvent,
    ReadinessSnapshot,
    SkillLevel,
    SkillRecord,
)
from training.readiness import release_readiness
from training.services.attempts import attempt_grade_essays
from training.services.courses import course_save
from training.services.regrade import question_regrade


@pytest.fixture
def course(sdk):
    return regrade_course(sdk=sdk)


@pytest.fixture
def bob(team):
    return EngineerFactory(user=UserFactory(username="bob"), team=team, region="EMEA")


def _fix_key(course):
    course_save(slug=SLUG, document=regrade_document(right=RIGHT), actor=SYSTEM)
    course.refresh_from_db()


def test_a_dry_run_lists_both_flips_and_writes_nothing(course, engineer, bob):
    wrong_pass = answer(engineer=engineer, course=course, choice=WRONG)
    right_fail = answer(engineer=bob, course=course, choice=RIGHT)
    assert (wrong_pass.passed, right_fail.passed) == (True, False)
    _fix_key(course)
    assert Question.objects.get(quiz=course.quiz, uid="edits").version == 2

    result = question_regrade(course=course, uid="edits", actor=SYSTEM, dry_run=True)

    by_user = {c.username: c for c in result.changes if c.visible}
    alice, bob_change = by_user["alice"], by_user["bob"]
    assert (alice.score_before, alice.score_after, alice.passed_after) == (100, 50, False)
    assert (alice.completion_before, alice.completion_after) == ("complete", "in_progress")
    assert alice.skills == [{"skill": "message-ordering", "before": 3, "after": None}]
    assert (bob_change.score_after, bob_change.passed_after) == (100, True)
    assert (bob_change.completion_before, bob_change.completion_after) == (
        "in_progress",
        "complete",
    )
    assert bob_change.skills == [{"skill": "message-ordering", "before": None, "after": 3}]
    assert result.flips == {"pass_to_fail": 1, "fail_to_pass": 1}
    assert Attempt.objects.get(pk=wrong_pass.pk).passed is True
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.QUESTION_REGRADED).exists()


def test_apply_changes_attempts_assignments_skills_readiness_and_tells_engineers(
    course, engineer, bob, lead, django_capture_on_commit_callbacks
):
    wrong_pass = answer(engineer=engineer, course=course, choice=WRONG)
    right_fail = answer(engineer=bob, course=course, choice=RIGHT)
    release = course.release
    assert release_readiness(release)["complete"] == 1
    version = ReadinessSnapshot.objects.get(release=release).version
    _fix_key(course)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = question_regrade(course=course, uid="edits", actor=Actor(user=lead), dry_run=False)

    alice_attempt = Attempt.objects.get(pk=wrong_pass.pk)
    bob_attempt = Attempt.objects.get(pk=right_fail.pk)
    assert (alice_attempt.score, alice_attempt.passed) == (50, False)
    assert (bob_attempt.score, bob_attempt.passed) == (100, True)
    edits = next(q for q in bob_attempt.snapshot["questions"] if q["uid"] == "edits")
    assert [c["text"] for c in edits["choices"] if c["correct"]] == [RIGHT]
    assert edits["version"] == 1 and edits["key_version"] == 2
    statuses = dict(
        Assignment.objects.filter(course=course).values_list("engineer__user__username", "status")
    )
    assert statuses == {"alice": "in_progress", "bob": "complete"}
    assert not SkillRecord.objects.filter(engineer=engineer).exists()
    record = SkillRecord.objects.get(engineer=bob)
    assert (record.level, record.evidence_id) == (SkillLevel.PROFICIENT, bob_attempt.pk)
    assert ReadinessSnapshot.objects.get(release=release).version > version
    readiness = release_readiness(release)
    assert readiness["complete"] == 1 and readiness["regions"]["EMEA"]["complete"] == 1

    event = AuditEvent.objects.get(kind=AuditEvent.Kind.QUESTION_REGRADED)
    assert event.actor == lead and event.course == course and event.pk == result.event_id
    assert event.details["uid"] == "edits" and len(event.details["attempts"]) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([engineer.user.email, bob.user.email])
    assert "regraded" in mail.outbox[0].subject


def test_regrading_twice_changes_nothing_the_second_time(course, engineer, bob):
    answer(engineer=engineer, course=course, choice=WRONG)
    answer(engineer=bob, course=course, choice=RIGHT)
    _fix_key(course)
    question_regrade(course=course, uid="edits", actor=SYSTEM, dry_run=False)
    events = AuditEvent.objects.count()

    again = question_regrade(course=course, uid="edits", actor=SYSTEM, dry_run=False)

    assert again.changes == [] and again.rekeyed == 0
    assert AuditEvent.objects.count() == events


def test_an_unchanged_key_changes_nothing(course, engineer):
    answer(engineer=engineer, course=course, choice=WRONG)
    result = question_regrade(course=course, uid="edits", actor=SYSTEM, dry_run=True)
    assert [c for c in result.changes if c.visible] == []


def test_only_the_version_asked_is_regraded(course, engineer, bob):
    answer(engineer=engineer, course=course, choice=WRONG)  # version 1
    _fix_key(course)
    answer(engineer=bob, course=course, choice=WRONG)  # version 2: failed, rightly
    result = question_regrade(course=course, uid="edits", version=2, actor=SYSTEM)
    assert [c.username for c in result.changes if c.visible] == []
    result = question_regrade(course=course, uid="edits", version=1, actor=SYSTEM)
    assert [c.username for c in result.changes if c.visible] == ["alice"]


def test_a_record_held_at_expert_is_never_lowered(course, engineer):
    attempt = answer(engineer=engineer, course=course, choice=WRONG)
    SkillRecord.objects.filter(engineer=engineer).update(level=SkillLevel.EXPERT)
    _fix_key(course)
    question_regrade(course=course, uid="edits", actor=SYSTEM, dry_run=False)
    record = SkillRecord.objects.get(engineer=engineer)
    assert Attempt.objects.get(pk=attempt.pk).passed is False
    # The level stays; the failed attempt is no longer its evidence.
    assert (record.level, record.evidence_id) == (SkillLevel.EXPERT, None)


def test_a_record_another_pass_shows_is_kept(course, engineer):
    answer(engineer=engineer, course=course, choice=WRONG)
    record = SkillRecord.objects.get(engineer=engineer)
    SkillRecord.objects.filter(pk=record.pk).update(evidence=None)
    _fix_key(course)
    question_regrade(course=course, uid="edits", actor=SYSTEM, dry_run=False)
    # Not this attempt's evidence any more (a person's grant, say): left alone.
    assert SkillRecord.objects.get(pk=record.pk).level == SkillLevel.PROFICIENT


def test_an_attempt_awaiting_its_grader_gets_the_new_mark_and_no_score(sdk, engineer, lead):
    course = regrade_course(sdk=sdk, document=regrade_document(essay=True))
    attempt = answer(engineer=engineer, course=course, choice=WRONG)
    assert attempt.awaiting_grading
    course_save(slug=SLUG, document=regrade_document(right=RIGHT, essay=True), actor=SYSTEM)

    result = question_regrade(course=course, uid="edits", actor=SYSTEM, dry_run=False)

    (change,) = [c for c in result.changes if c.visible]
    assert change.awaiting_grading and (change.mark_before, change.mark_after) == (1, 0.0)
    assert change.score_after is None and change.passed_after is None
    attempt.refresh_from_db()
    assert attempt.awaiting_grading and attempt.score is None
    essay = next(q for q in attempt.snapshot["questions"] if q["kind"] == "essay")
    graded = attempt_grade_essays(
        attempt=attempt, grades={str(essay["id"]): {"score": 100, "feedback": ""}}, grader=lead
    )
    # The grader's score meets the regraded mark: 2 of 3.
    assert (graded.score, graded.passed) == (66, False)


def test_essays_are_never_regraded_and_graded_ones_keep_their_grade(sdk, engineer, lead):
    course = regrade_course(sdk=sdk, document=regrade_document(essay=True))
    attempt = answer(engineer=engineer, course=course, choice=WRONG)
    essay = next(q for q in attempt.snapshot["questions"] if q["kind"] == "essay")
    attempt_grade_essays(
        attempt=attempt, grades={str(essay["id"]): {"score": 90, "feedback": ""}}, grader=lead
    )
    assert Attempt.objects.get(pk=attempt.pk).score == 96
    course_save(slug=SLUG, document=regrade_document(right=RIGHT, essay=True), actor=SYSTEM)

    skipped = question_regrade(course=course, uid="reply", actor=SYSTEM).skipped
    assert [(s.username, s.reason) for s in skipped] == [("alice", "essay")]
    question_regrade(course=course, uid="edits", actor=SYSTEM, dry_run=False)
    attempt.refresh_from_db()
    # 0 + 1 + 0.9 of 3.
    assert (attempt.score, attempt.passed, attempt.essay_grades[str(essay["id"])]["score"]) == (
        63,
        False,
        90,
    )


def test_an_answer_whose_choice_is_gone_is_skipped(course, engineer):
    answer(engineer=engineer, course=course, choice="At random")
    document = regrade_document(right=RIGHT)
    document["quiz"]["questions"][0]["choices"][2]["text"] = "In send order"
    course_save(slug=SLUG, document=document, actor=SYSTEM)
    result = question_regrade(course=course, uid="edits", actor=SYSTEM)
    assert [(s.username, s.reason) for s in result.skipped] == [("alice", "changed")]
    assert result.changes == []


def test_an_unknown_question_is_not_found(course):
    with pytest.raises(NotFound):
        question_regrade(course=course, uid="nope", actor=SYSTEM)
