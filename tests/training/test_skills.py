import pytest
from django.utils import timezone

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
