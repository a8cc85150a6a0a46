import threading

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from courses.models import Skill
from tests.factories import SkillFactory, SkillRecordFactory
from tests.training.quiz_course import build_quiz_course
from training.models import Attempt, SkillLevel, SkillRecord
from training.services.skills import level_for_score, skill_records_update_from_attempt

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (100, SkillLevel.PROFICIENT),
        (90, SkillLevel.PROFICIENT),
        (89, SkillLevel.PRACTITIONER),
        (70, SkillLevel.PRACTITIONER),
        (69, SkillLevel.AWARE),
        (0, SkillLevel.AWARE),
    ],
)
def test_the_level_follows_the_per_skill_score(score, level):
    assert level_for_score(score) == level


def _attempt(engineer, quiz, *, passed=True, scores=None, number=1):
    return Attempt.objects.create(
        engineer=engineer,
        quiz=quiz,
        number=number,
        pass_mark=50,
        snapshot={"questions": []},
        submitted_at=timezone.now(),
        score=80 if passed else 20,
        passed=passed,
        skill_scores={
            slug: {"right": 0, "total": 0, "score": score} for slug, score in (scores or {}).items()
        },
    )


def test_an_existing_level_is_never_lowered(engineer):
    qc = build_quiz_course(engineer=engineer)
    skill = SkillFactory(slug="push")
    old = _attempt(engineer, qc.quiz, scores={"push": 100})
    skill_records_update_from_attempt(attempt=old)
    new = _attempt(engineer, qc.quiz, scores={"push": 70}, number=2)
    assert skill_records_update_from_attempt(attempt=new) == []
    record = SkillRecord.objects.get(engineer=engineer, skill=skill)
    assert record.level == SkillLevel.PROFICIENT
    assert record.evidence == old


def test_a_higher_score_raises_the_level_and_replaces_the_evidence(engineer):
    qc = build_quiz_course(engineer=engineer)
    skill = SkillFactory(slug="push")
    SkillRecordFactory(engineer=engineer, skill=skill, level=SkillLevel.AWARE)
    attempt = _attempt(engineer, qc.quiz, scores={"push": 75})
    skill_records_update_from_attempt(attempt=attempt)
    record = SkillRecord.objects.get(engineer=engineer, skill=skill)
    assert record.level == SkillLevel.PRACTITIONER
    assert record.evidence == attempt
    assert record.verified_at == attempt.submitted_at


def test_an_expert_granted_by_a_lead_stays_expert(engineer):
    qc = build_quiz_course(engineer=engineer)
    skill = SkillFactory(slug="push")
    SkillRecordFactory(engineer=engineer, skill=skill, level=SkillLevel.EXPERT)
    skill_records_update_from_attempt(attempt=_attempt(engineer, qc.quiz, scores={"push": 100}))
    assert SkillRecord.objects.get(engineer=engineer, skill=skill).level == SkillLevel.EXPERT


def test_a_failed_attempt_changes_no_skill(engineer):
    qc = build_quiz_course(engineer=engineer)
    SkillFactory(slug="push")
    attempt = _attempt(engineer, qc.quiz, passed=False, scores={"push": 100})
    assert skill_records_update_from_attempt(attempt=attempt) == []
    assert not SkillRecord.objects.exists()


def test_one_attempt_creates_raises_and_keeps_records_together(engineer):
    qc = build_quiz_course(engineer=engineer)
    new, low, expert = (SkillFactory(slug=slug) for slug in ("push", "presence", "threads"))
    SkillRecordFactory(engineer=engineer, skill=low, level=SkillLevel.AWARE)
    SkillRecordFactory(engineer=engineer, skill=expert, level=SkillLevel.EXPERT)
    attempt = _attempt(engineer, qc.quiz, scores={"push": 70, "presence": 100, "threads": 100})
    written = skill_records_update_from_attempt(attempt=attempt)
    assert {record.skill_id for record in written} == {new.pk, low.pk}
    records = {r.skill_id: r for r in SkillRecord.objects.filter(engineer=engineer)}
    assert (records[new.pk].level, records[new.pk].evidence) == (SkillLevel.PRACTITIONER, attempt)
    assert (records[low.pk].level, records[low.pk].evidence) == (SkillLevel.PROFICIENT, attempt)
    assert records[low.pk].verified_at == attempt.submitted_at
    assert (records[expert.pk].level, records[expert.pk].evidence) == (SkillLevel.EXPERT, None)


def test_another_engineers_record_of_the_skill_is_left_alone(engineer, outsider):
    qc = build_quiz_course(engineer=engineer)
    skill = SkillFactory(slug="push")
    theirs = SkillRecordFactory(engineer=outsider, skill=skill, level=SkillLevel.AWARE)
    skill_records_update_from_attempt(attempt=_attempt(engineer, qc.quiz, scores={"push": 100}))
    theirs.refresh_from_db()
    assert (theirs.level, theirs.evidence) == (SkillLevel.AWARE, None)
    assert SkillRecord.objects.get(engineer=engineer, skill=skill).level == SkillLevel.PROFICIENT


@pytest.mark.parametrize("skills", [2, 12])
def test_the_query_count_does_not_grow_with_the_number_of_skills(
    engineer, django_assert_num_queries, skills
):
    qc = build_quiz_course(engineer=engineer)
    slugs = [f"skill-{i}" for i in range(skills)]
    for slug in slugs[::2]:  # half re-verified, half new
        SkillRecordFactory(engineer=engineer, skill=SkillFactory(slug=slug), level=1)
    for slug in slugs[1::2]:
        SkillFactory(slug=slug)
    attempt = _attempt(engineer, qc.quiz, scores=dict.fromkeys(slugs, 100))
    # The skills, one insert of the new records, one lock of all, one update.
    with django_assert_num_queries(4):
        written = skill_records_update_from_attempt(attempt=attempt)
    assert len(written) == skills
    assert set(SkillRecord.objects.filter(engineer=engineer).values_list("level", "evidence")) == {
        (SkillLevel.PROFICIENT, attempt.pk)
    }


@pytest.mark.django_db(transaction=True)
def test_grading_a_re_verification_locks_no_skill_row_other_engineers_need(engineer):
    """The record is locked until the grade commits; the skill it points to, which
    every other engineer's grading reads, must not be."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite takes no row locks")
    qc = build_quiz_course(engineer=engineer)
    skill = SkillFactory(slug="push")
    SkillRecordFactory(engineer=engineer, skill=skill, level=SkillLevel.AWARE)
    attempt = _attempt(engineer, qc.quiz, scores={"push": 100})
    locked, checked = threading.Event(), threading.Event()
    outcome = {}

    def grade() -> None:
        try:
            with transaction.atomic():
                skill_records_update_from_attempt(attempt=attempt)
                locked.set()
                checked.wait(timeout=10)
        finally:
            connection.close()

    def other_engineer() -> None:
        try:
            locked.wait(timeout=10)
            with transaction.atomic():
                # NOWAIT: a row locked by the grading above raises at once.
                outcome["skill"] = Skill.objects.select_for_update(nowait=True).get(pk=skill.pk)
        except DatabaseError as exc:
            outcome["error"] = exc
        finally:
            checked.set()
            connection.close()

    threads = [threading.Thread(target=grade), threading.Thread(target=other_engineer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert "error" not in outcome
    assert SkillRecord.objects.get(engineer=engineer, skill=skill).evidence_id == attempt.pk


@pytest.mark.django_db(transaction=True)
def test_two_passed_attempts_graded_at_once_both_raise_the_shared_skills(engineer):
    """Two quizzes of the same engineer graded at the same moment, sharing skills,
    one of them held already: no error, no deadlock, one record per skill."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's shared in-memory test database locks tables")
    qc = build_quiz_course(engineer=engineer)
    SkillRecordFactory(engineer=engineer, skill=SkillFactory(slug="push"), level=1)
    for slug in ("presence", "threads"):
        SkillFactory(slug=slug)
    attempts = [
        _attempt(engineer, qc.quiz, scores={"push": 100, "presence": 75, "threads": 100}),
        _attempt(engineer, qc.quiz, scores={"threads": 75, "presence": 100, "push": 75}, number=2),
    ]
    barrier = threading.Barrier(2)
    errors = []

    def grade(attempt) -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                skill_records_update_from_attempt(attempt=attempt)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=grade, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    levels = dict(SkillRecord.objects.filter(engineer=engineer).values_list("skill__slug", "level"))
    assert levels == dict.fromkeys(("push", "presence", "threads"), SkillLevel.PROFICIENT)
