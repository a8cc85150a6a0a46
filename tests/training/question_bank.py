# ruff: noqa: E501 (the questions read as a table)
"""A course with one question of every kind and a pool, assigned to an engineer:
shared by the service, page, API and browser tests of question banks."""

from datetime import timedelta

from django.utils import timezone

from core.actors import SYSTEM
from courses.models import Course, Quiz
from tests.factories import AssignmentFactory, FeatureFactory, ReleaseFactory, SkillFactory
from training.models import Assignment
from training.services.courses import course_save

SLUG = "rtm-android-2-6-bank"
RUBRIC = "Names the **timeout** and tells the customer to raise `connectTimeout`."
ESSAY_PROMPT = "Write the reply to the customer whose uploads time out."


def kind_questions() -> list[dict]:
    """One question of each kind (index in this list = its `{"question": i}` slot)."""
    return [
        {"prompt": "Edits keep the server timestamp.", "kind": "true_false", "answer": True,
         "skill": "message-ordering", "explanation": "EXPLAIN-TF"},
        {"prompt": "Which error code means the token expired?", "kind": "short_answer",
         "answers": [{"text": "token*expired", "fraction": 1}, {"text": "expired", "fraction": 0.5}]},
        {"prompt": "Default connect timeout?", "kind": "numeric", "value": 3000,
         "tolerance": 100, "units": [{"unit": "ms", "multiplier": 1}, {"unit": "s", "multiplier": 0.001}]},
        {"prompt": "Order the troubleshooting steps.", "kind": "ordering", "partial": True,
         "items": ["Ask for the SDK version", "Reproduce in the sample app", "Collect the log"]},
        {"prompt": "Match each error to its cause.", "kind": "matching",
         "pairs": [{"item": "E401", "match": "Bad token"}, {"item": "E408", "match": "Timeout"}],
         "distractors": ["Rate limited"]},
        {"prompt": "Read the log.", "kind": "scenario",
         "scenario": "```java\nio.rtm.ConnectException: connect failed (code=408)\n    at io.rtm.Client.connect(Client.java:42)\n```",
         "question": {"kind": "single", "prompt": "What failed?",
                      "choices": [{"text": "The connection timed out", "correct": True},
                                  {"text": "The token expired"}]}},
        {"prompt": ESSAY_PROMPT, "kind": "essay", "rubric": RUBRIC, "skill": "message-ordering"},
        {"prompt": "Pick what resends messages.", "kind": "multiple",
         "choices": [{"text": "The SDK", "fraction": 0.5}, {"text": "The queue", "fraction": 0.5},
                     {"text": "The customer", "fraction": -1}]},
    ]  # fmt: skip


def pool_questions(n: int = 6) -> list[dict]:
    """n true/false questions, the first half on feature message-edit."""
    return [
        {
            "prompt": f"Pool statement {i}.",
            "kind": "true_false",
            "answer": i % 2 == 0,
            "feature": "message-edit" if i < n // 2 else "reconnect",
        }
        for i in range(n)
    ]


def bank_document(
    *, questions: list[dict] | None = None, slots: list[dict] | None = None, pool_size: int = 6
) -> dict:
    questions = kind_questions() if questions is None else questions
    if slots is None:
        slots = [{"question": i} for i in range(len(questions))]
    quiz: dict = {"pass_mark": 60, "max_attempts": 3, "questions": questions, "slots": slots}
    if pool_size:
        quiz["pools"] = [{"name": "basics", "questions": pool_questions(pool_size)}]
    return {
        "title": "RTM Android 2.6 — question bank",
        "release": {"sdk": "rtm-android", "version": "2.6.0"},
        "lessons": [],
        "quiz": quiz,
    }


def bank_release(sdk):
    release = ReleaseFactory(sdk=sdk, version="2.6.0")
    skill = SkillFactory(slug="message-ordering", name="Message ordering")
    FeatureFactory(release=release, key="message-edit", title="Edit", skills=[skill])
    FeatureFactory(release=release, key="reconnect", title="Reconnect")
    return release


def bank_course(*, engineer, document: dict | None = None) -> tuple[Course, Quiz, Assignment]:
    """The course saved from `document` (default: every kind and a pool) and
    assigned to `engineer`."""
    if not engineer.team.sdks.filter(slug="rtm-android").exists():
        raise AssertionError("the engineer's team should support rtm-android")
    sdk = engineer.team.sdks.get(slug="rtm-android")
    if not sdk.releases.filter(version="2.6.0").exists():
        bank_release(sdk)
    course, _ = course_save(slug=SLUG, document=document or bank_document(), actor=SYSTEM)
    assignment = AssignmentFactory(
        engineer=engineer, course=course, due_at=timezone.now() + timedelta(days=5)
    )
    return course, course.quiz, assignment


def right_answers(attempt) -> dict[str, list[str]]:
    """Every question of the attempt answered right (an essay with some text)."""
    answers: dict[str, list[str]] = {}
    for q in attempt.snapshot["questions"]:
        kind = q["kind"]
        if kind in ("single", "multiple"):
            value = [c["key"] for c in q["choices"] if c["correct"]]
        elif kind == "true_false":
            value = ["true" if q["answer"] else "false"]
        elif kind == "short_answer":
            value = ["TOKEN_EXPIRED"]
        elif kind == "numeric":
            value = ["3 s"]
        elif kind == "ordering":
            place = {key: str(n) for n, key in enumerate(q["order"], start=1)}
            value = [place[item["key"]] for item in q["items"]]
        elif kind == "matching":
            value = [q["pairs"][item["key"]] for item in q["items"]]
        else:
            value = ["The connect timeout is too short; raise connectTimeout."]
        answers[str(q["id"])] = value
    return answers
