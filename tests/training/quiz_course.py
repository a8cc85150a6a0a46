"""A small release course (lessons and a quiz) assigned to an engineer, shared by the
page, service and browser tests of the engineer's experience."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from courses.models import Course, Lesson, Question, Quiz, Release
from tests.factories import (
    AssignmentFactory,
    ChoiceFactory,
    CourseFactory,
    FeatureFactory,
    LessonFactory,
    QuestionFactory,
    QuizFactory,
    ReleaseFactory,
    SkillFactory,
)
from training.models import Assignment, Engineer

LESSONS = [
    (
        "Editing sent messages",
        # Opens with the lesson's own title, as imported lessons often do: the page
        # shows it once, as its <h1>.
        "# Editing sent messages\n\n"
        "## What changed\n\nA sent message can now be **edited** for 15 minutes.\n\n"
        "| Platform | Since |\n|---|---|\n| Android | 2.4.0 |\n\n"
        "```kotlin\n// Edits keep the original server timestamp.\n"
        'val edited = client.editMessage(id, text = "Fixed typo")\n```\n\n'
        "Before answering an edit ticket:\n\n"
        "- [x] Ask for the SDK version\n- [ ] Reproduce it in the sample app\n",
    ),
    (
        "Reconnection",
        "## Backoff\n\nThe SDK reconnects with *exponential backoff* and resends "
        "unacknowledged messages.\n\n> Tell customers not to reconnect by hand.",
    ),
]

# (prompt, kind, skill slug, explanation, [(choice text, correct), ...])
QUESTIONS = [
    (
        "In which order does a channel deliver edited messages?",
        Question.Kind.SINGLE,
        "message-ordering",
        "Edits keep the **server timestamp** of the original message.",
        [("By server timestamp", True), ("By client send time", False), ("At random", False)],
    ),
    (
        "What does the SDK do after a network drop?",
        Question.Kind.MULTIPLE,
        "reconnection",
        "It backs off exponentially and resends what was not acknowledged.",
        [
            ("Reconnects with exponential backoff", True),
            ("Resends unacknowledged messages", True),
            ("Drops the session for good", False),
        ],
    ),
]


@dataclass
class QuizCourse:
    course: Course
    release: Release | None
    lessons: list[Lesson]
    quiz: Quiz | None
    assignment: Assignment
    questions: list[Question] = field(default_factory=list)

    def right_answers(self) -> dict[int, list[str]]:
        """Question id → texts of its right choices."""
        return {q.pk: [c.text for c in q.choices.all() if c.correct] for q in self.questions}


def build_quiz_course(
    *,
    engineer: Engineer,
    slug: str = "rtm-android-2-4",
    title: str = "RTM Android 2.4 — what's new",
    with_quiz: bool = True,
    pass_mark: int = 100,
    max_attempts: int = 3,
    due_at: datetime | None = None,
    lessons: list[tuple[str, str]] | None = None,
) -> QuizCourse:
    now = timezone.now()
    sdk = engineer.team.sdks.first() if engineer.team_id else None
    release = ReleaseFactory(
        **({"sdk": sdk} if sdk else {}),
        version="2.4.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=now + timedelta(days=5),
    )
    feature = FeatureFactory(release=release, key="message-edit", title="Edit sent messages")
    course = CourseFactory(slug=slug, title=title, release=release)
    lesson_objs = [
        LessonFactory(course=course, position=i + 1, title=t, body=body, feature=feature)
        for i, (t, body) in enumerate(LESSONS if lessons is None else lessons)
    ]
    quiz = None
    questions = []
    if with_quiz:
        quiz = QuizFactory(course=course, pass_mark=pass_mark, max_attempts=max_attempts)
        for qi, (prompt, kind, skill, explanation, choices) in enumerate(QUESTIONS):
            question = QuestionFactory(
                quiz=quiz,
                position=qi + 1,
                prompt=prompt,
                kind=kind,
                skill=SkillFactory(slug=skill, name=skill.replace("-", " ").capitalize()),
                explanation=explanation,
            )
            for ci, (text, correct) in enumerate(choices):
                ChoiceFactory(question=question, position=ci + 1, text=text, correct=correct)
            questions.append(question)
    assignment = AssignmentFactory(
        engineer=engineer,
        course=course,
        reason=Assignment.Reason.RELEASE,
        due_at=due_at or now + timedelta(days=3),
    )
    return QuizCourse(
        course=course,
        release=release,
        lessons=lesson_objs,
        quiz=quiz,
        assignment=assignment,
        questions=questions,
    )
