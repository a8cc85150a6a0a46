"""A release course whose question `edits` had a wrong key, and engineers who
answered it: shared by the regrade service, page and API tests."""

from datetime import timedelta

from django.utils import timezone

from core.actors import SYSTEM
from courses.models import Course, Release
from tests.factories import AssignmentFactory, FeatureFactory, ReleaseFactory, SkillFactory
from training.models import Assignment, Attempt, Engineer, LessonProgress
from training.services.attempts import attempt_start, attempt_submit
from training.services.courses import course_save

SLUG = "rtm-android-2-7-edits"
WRONG = "By client send time"
RIGHT = "By server timestamp"


def regrade_document(*, right: str = WRONG, essay: bool = False, owner: str | None = None) -> dict:
    """Two questions worth half each, pass mark 100: `edits` (its key says `right`)
    and `tf` (always true), plus an essay when asked."""
    questions: list[dict] = [
        {
            "id": "edits",
            "prompt": "In which order does a channel deliver edited messages?",
            "kind": "single",
            "skill": "message-ordering",
            "feature": "message-edit",
            "choices": [
                {"text": RIGHT, "correct": right == RIGHT},
                {"text": WRONG, "correct": right == WRONG},
                {"text": "At random", "correct": False},
            ],
        },
        {
            "id": "tf",
            "prompt": "An edit keeps the message id.",
            "kind": "true_false",
            "answer": True,
            "skill": "message-ordering",
            "feature": "message-edit",
        },
    ]
    if essay:
        questions.append(
            {"id": "reply", "prompt": "Reply to the customer.", "kind": "essay", "rubric": "Kind."}
        )
    document = {
        "title": "RTM Android 2.7 — edits",
        "release": {"sdk": "rtm-android", "version": "2.7.0"},
        "lessons": [{"title": "Edits", "body": "Edits keep the server timestamp."}],
        "quiz": {"pass_mark": 100, "max_attempts": 3, "questions": questions},
    }
    if owner:
        document["owner"] = owner
    return document


def regrade_course(*, sdk, document: dict | None = None) -> Course:
    if not Release.objects.filter(sdk=sdk, version="2.7.0").exists():
        release = ReleaseFactory(
            sdk=sdk,
            version="2.7.0",
            status=Release.Status.PUBLISHED,
            customer_available_at=timezone.now() + timedelta(days=10),
        )
        skill = SkillFactory(slug="message-ordering", name="Message ordering")
        FeatureFactory(release=release, key="message-edit", title="Edit", skills=[skill])
    course, _ = course_save(slug=SLUG, document=document or regrade_document(), actor=SYSTEM)
    return course


def answer(
    *, engineer: Engineer, course: Course, choice: str, tf: str = "true", essay: str = ""
) -> Attempt:
    """`engineer` reads the lesson and answers: `choice` to `edits`, `tf` to `tf`."""
    assignment = Assignment.objects.filter(engineer=engineer, course=course).first()
    if assignment is None:
        assignment = AssignmentFactory(
            engineer=engineer,
            course=course,
            reason=Assignment.Reason.RELEASE,
            due_at=timezone.now() + timedelta(days=5),
        )
    for lesson in course.lessons.all():
        LessonProgress.objects.get_or_create(engineer=engineer, lesson=lesson)
    attempt = attempt_start(engineer=engineer, quiz=course.quiz)
    answers: dict[str, list[str]] = {}
    for question in attempt.snapshot["questions"]:
        if question["uid"] == "edits":
            value = [c["key"] for c in question["choices"] if c["text"] == choice]
        elif question["uid"] == "tf":
            value = [tf]
        else:
            value = [essay or "Sorry for the trouble."]
        answers[str(question["id"])] = value
    return attempt_submit(attempt=attempt, answers=answers)
