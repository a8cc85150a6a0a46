"""Question banks and the new kinds: pools drawn per attempt, each kind graded on
the server (right, wrong, partial, malformed), essays graded by a person."""

import pytest
from django.core import mail

from core.actors import SYSTEM
from core.errors import Conflict, InvalidInput
from courses.models import Question
from courses.services.courses import course_put
from tests.training.question_bank import (
    ESSAY_PROMPT,
    RUBRIC,
    SLUG,
    bank_course,
    bank_document,
    kind_questions,
    right_answers,
)
from training.grading import clean_answer, mark
from training.models import Assignment, Attempt, SkillRecord
from training.services.attempts import attempt_grade_essays, attempt_start, attempt_submit

pytestmark = pytest.mark.django_db


def _question(attempt, kind: str) -> dict:
    return next(q for q in attempt.snapshot["questions"] if q["kind"] == kind)


def _pool_only(pool_size: int, slots: list[dict]) -> dict:
    return bank_document(questions=[], slots=slots, pool_size=pool_size)


# --- each kind: right, wrong, partial, malformed -------------------------------


@pytest.fixture
def attempt(engineer):
    _, quiz, _ = bank_course(engineer=engineer)
    return attempt_start(engineer=engineer, quiz=quiz)


def test_true_false_is_right_or_wrong_and_nothing_else(attempt):
    q = _question(attempt, "true_false")
    assert mark(q, ["true"]) == 1 and mark(q, ["false"]) == 0
    assert clean_answer(q, ["maybe"])[1] == "Choose among the answers shown."
    assert clean_answer(q, ["true", "false"])[1] == "Choose one answer."


def test_short_answer_takes_wildcards_any_case_and_fractions(attempt):
    q = _question(attempt, "short_answer")
    assert mark(q, ["Token  has EXPIRED"]) == 1
    assert mark(q, ["expired"]) == 0.5
    assert mark(q, ["bad signature"]) == 0
    assert clean_answer(q, ["   "])[1] == "Write an answer."
    assert clean_answer(q, ["a\x00b"])[1]


def test_numeric_accepts_the_tolerance_and_the_units(attempt):
    q = _question(attempt, "numeric")
    assert mark(q, ["3050"]) == 1
    assert mark(q, ["3 s"]) == 1
    assert mark(q, ["2.5 s"]) == 0
    assert clean_answer(q, ["three seconds"])[1] == (
        "Enter a number, optionally with a unit (ms, s)."
    )
    assert clean_answer(q, ["3 parsecs"])[1] == "Use one of the units: ms, s."


def test_ordering_gives_partial_credit_per_item_in_its_place(attempt):
    q = _question(attempt, "ordering")
    place = {key: str(n) for n, key in enumerate(q["order"], start=1)}
    right = [place[item["key"]] for item in q["items"]]
    assert mark(q, right) == 1
    first_fixed = ["1" if p == "1" else ("3" if p == "2" else "2") for p in right]
    assert mark(q, first_fixed) == pytest.approx(1 / 3)
    assert clean_answer(q, ["1", "1", "2"])[1] == ("Give each item a different place, from 1 to 3.")
    assert clean_answer(q, ["1"])[1] == "Answer for every item."


def test_ordering_without_partial_is_all_or_nothing(attempt):
    q = dict(_question(attempt, "ordering"), partial=False)
    place = {key: str(n) for n, key in enumerate(q["order"], start=1)}
    swapped = [place[item["key"]] for item in q["items"]]
    swapped[0], swapped[1] = swapped[1], swapped[0]
    assert mark(q, swapped) == 0


def test_matching_gives_credit_per_item_matched(attempt):
    q = _question(attempt, "matching")
    right = [q["pairs"][item["key"]] for item in q["items"]]
    distractor = next(o["key"] for o in q["options"] if o["text"] == "Rate limited")
    assert mark(q, right) == 1
    assert mark(q, [right[0], distractor]) == 0.5
    assert clean_answer(q, [right[0], "99"])[1] == "Choose among the answers shown."


def test_a_scenario_is_graded_as_its_question_and_shows_its_log(attempt):
    q = next(q for q in attempt.snapshot["questions"] if q.get("scenario"))
    assert q["kind"] == "single" and "code=408" in q["scenario"]
    right = [c["key"] for c in q["choices"] if c["correct"]]
    assert mark(q, right) == 1


def test_multiple_choice_fractions_take_off_for_wrong_picks_and_stop_at_zero(attempt):
    q = _question(attempt, "multiple")
    key = {c["text"]: c["key"] for c in q["choices"]}
    assert mark(q, [key["The SDK"], key["The queue"]]) == 1
    assert mark(q, [key["The SDK"]]) == 0.5
    assert mark(q, [key["The SDK"], key["The customer"]]) == 0


def test_malformed_answers_are_refused_naming_each_question(attempt):
    answers = right_answers(attempt)
    numeric = _question(attempt, "numeric")
    answers[str(numeric["id"])] = ["lots"]
    with pytest.raises(InvalidInput) as caught:
        attempt_submit(attempt=attempt, answers=answers)
    assert list(caught.value.detail) == [f"q{numeric['id']}"]
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


# --- pools ------------------------------------------------------------------------


def test_a_pool_draw_is_kept_on_reload_and_never_repeats_while_unseen_remain(engineer):
    _, quiz, assignment = bank_course(
        engineer=engineer, document=_pool_only(6, [{"pool": "basics", "draw": 2}])
    )
    Assignment.objects.filter(pk=assignment.pk).update(extra_attempts=10)
    seen: list[str] = []
    for _ in range(3):
        attempt = attempt_start(engineer=engineer, quiz=quiz)
        assert attempt_start(engineer=engineer, quiz=quiz).snapshot == attempt.snapshot
        drawn = [q["uid"] for q in attempt.snapshot["questions"]]
        assert len(drawn) == 2 and not set(drawn) & set(seen)
        seen += drawn
        wrong = {
            str(q["id"]): ["false" if q["answer"] else "true"]
            for q in attempt.snapshot["questions"]
        }
        attempt_submit(attempt=attempt, answers=wrong)
    assert len(set(seen)) == 6
    # Every question seen: the fourth attempt draws seen ones again.
    assert len(attempt_start(engineer=engineer, quiz=quiz).snapshot["questions"]) == 2


def test_a_draw_with_a_feature_takes_only_that_features_questions(engineer):
    slots = [{"pool": "basics", "draw": 3, "feature": "message-edit"}]
    _, quiz, _ = bank_course(engineer=engineer, document=_pool_only(6, slots))
    attempt = attempt_start(engineer=engineer, quiz=quiz)
    assert {q["feature"] for q in attempt.snapshot["questions"]} == {"message-edit"}


def test_drawing_more_than_the_pool_holds_is_refused_at_import(engineer):
    bank_course(engineer=engineer)
    document = _pool_only(4, [{"pool": "basics", "draw": 5}])
    with pytest.raises(InvalidInput) as caught:
        course_put(slug=SLUG, document=document, actor=SYSTEM)
    assert "Cannot draw 5" in str(caught.value.detail["quiz"]["slots"][0]["draw"])


@pytest.mark.parametrize(
    ("slots", "field"),
    [
        ([{"pool": "nope", "draw": 1}], "slots"),
        ([{"question": 7}], "slots"),
        ([{"pool": "basics"}], "slots"),
        ([{"question": 0, "draw": 2}], "slots"),
    ],
)
def test_bad_slots_name_the_problem(engineer, slots, field):
    bank_course(engineer=engineer)
    document = bank_document(questions=kind_questions()[:1], slots=slots)
    with pytest.raises(InvalidInput) as caught:
        course_put(slug=SLUG, document=document, actor=SYSTEM)
    assert field in caught.value.detail["quiz"]


def test_editing_a_question_makes_a_new_version_and_keeps_unchanged_ones(engineer):
    _, quiz, _ = bank_course(engineer=engineer)
    document = bank_document()
    document["quiz"]["questions"][0]["prompt"] = "Edits keep the original server timestamp."
    course_put(slug=SLUG, document=document, actor=SYSTEM)
    versions = dict(Question.objects.filter(quiz=quiz).values_list("uid", "version"))
    assert versions["q1"] == 2 and versions["q2"] == 1 and versions["basics#1"] == 1


# --- essays ------------------------------------------------------------------------


def test_an_essay_attempt_awaits_a_grader_then_passes_and_counts(
    engineer, lead, django_capture_on_commit_callbacks
):
    _, quiz, assignment = bank_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=quiz)
    attempt = attempt_submit(attempt=attempt, answers=right_answers(attempt))
    assert attempt.awaiting_grading and attempt.passed is None and attempt.score is None
    assignment.refresh_from_db()
    assert assignment.status != Assignment.Status.COMPLETE
    with pytest.raises(Conflict):
        attempt_start(engineer=engineer, quiz=quiz)

    essay = _question(attempt, "essay")
    mail.outbox.clear()
    with pytest.raises(InvalidInput):
        attempt_grade_essays(
            attempt=attempt, grades={str(essay["id"]): {"score": 101, "feedback": ""}}, grader=lead
        )
    with django_capture_on_commit_callbacks(execute=True):
        graded = attempt_grade_essays(
            attempt=attempt,
            grades={str(essay["id"]): {"score": 80, "feedback": "Clear reply."}},
            grader=lead,
        )
    # 7 questions right, the essay at 80%: 7.8 of 8.
    assert (graded.score, graded.passed, graded.awaiting_grading) == (97, True, False)
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.COMPLETE
    assert SkillRecord.objects.filter(engineer=engineer, skill__slug="message-ordering").exists()
    assert [m.to for m in mail.outbox] == [[engineer.user.email]]
    assert "graded" in mail.outbox[0].subject
    with pytest.raises(Conflict):
        attempt_grade_essays(attempt=graded, grades={}, grader=lead)


def test_an_essay_graded_low_fails_the_attempt(engineer, lead):
    questions = [kind_questions()[6]]
    _, quiz, _ = bank_course(
        engineer=engineer, document=bank_document(questions=questions, pool_size=0)
    )
    attempt = attempt_start(engineer=engineer, quiz=quiz)
    attempt = attempt_submit(attempt=attempt, answers=right_answers(attempt))
    essay = _question(attempt, "essay")
    graded = attempt_grade_essays(
        attempt=attempt, grades={str(essay["id"]): {"score": 20, "feedback": ""}}, grader=lead
    )
    assert (graded.score, graded.passed) == (20, False)
    assert Attempt.objects.get(pk=attempt.pk).essay_grades[str(essay["id"])]["score"] == 20


def test_the_essays_rubric_is_in_the_snapshot_only(attempt):
    assert _question(attempt, "essay")["rubric"] == RUBRIC
    assert _question(attempt, "essay")["prompt"] == ESSAY_PROMPT
