"""Writing courses from documents (see courses.documents)."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from courses.documents import document_validate
from courses.models import Choice, Course, Lesson, Question, Quiz, Release
from training.actors import Actor
from training.errors import Conflict, InvalidInput
from training.queue import enqueue_on_commit


def course_put(*, slug: str, document: Any, actor: Actor) -> tuple[Course, bool]:
    """Create the course `slug` from a document, or replace it. Returns (course, created).

    Guarantees:
    - All or nothing: the document is validated first (InvalidInput with field
      errors), then written in one transaction; concurrent PUTs of one slug are
      serialized by a row lock on the course, and a PUT racing a publish of its
      release by a lock on the release: either way the course ends assigned.
    - Replacing keeps the Course row and its Quiz row, so assignments and attempts
      keep pointing at them. Lessons are updated in place by position (reading
      progress of a position survives), extra ones deleted, new ones added.
      Questions and choices are replaced; attempts graded against them keep their
      own snapshot, so a recorded score never changes.
    - Removing the quiz of a course that has attempts is refused (Conflict): the
      attempts, and the skill evidence they are, would go with it.

    Side effect: when the course is created for a published release, or newly tied
    to one, `assign_release_training` is queued after commit.
    """
    if isinstance(document, dict):
        if document.get("slug", slug) != slug:
            raise InvalidInput(
                {
                    "slug": [
                        gettext("The document's slug '%(given)s' does not match '%(slug)s'.")
                        % {"given": document["slug"], "slug": slug}
                    ]
                }
            )
        document = {**document, "slug": slug}
    spec = document_validate(document)
    release: Release | None = spec["release"]

    with transaction.atomic():
        if release is not None:
            # Lock the release first, as release_publish does, and decide on its state
            # as it is now: validation read it unlocked, and a publish committing in
            # between would otherwise leave this course tied to a published release
            # with nobody assigned (the fan-out ran before this course existed).
            release = Release.objects.select_for_update(of=("self",), no_key=True).get(
                pk=release.pk
            )
        course = Course.objects.select_for_update().filter(slug=slug).first()
        created = course is None
        if created:
            try:
                with transaction.atomic():
                    course = Course.objects.create(slug=slug, title=spec["title"])
            except IntegrityError:
                # Another PUT created it first: replace theirs, after they commit.
                course = Course.objects.select_for_update().get(slug=slug)
                created = False
        newly_tied = release is not None and (created or course.release_id != release.pk)

        course.title = spec["title"]
        course.description = spec["description"]
        course.release = release
        course.status = spec["status"]
        course.language = spec["language"]
        course.updated_at = timezone.now()
        course.save(
            update_fields=["title", "description", "release", "status", "language", "updated_at"]
        )
        _put_lessons(course=course, lessons=spec["lessons"])
        _put_quiz(course=course, quiz_spec=spec["quiz"])

        if newly_tied and release.status == Release.Status.PUBLISHED:
            # Imported here: the tasks module imports services; a top-level import could cycle.
            from training.tasks import assign_release_training

            enqueue_on_commit(assign_release_training, release.pk)
    return course, created


def _put_lessons(*, course: Course, lessons: list[dict]) -> None:
    # Positions are 1..n. The lesson at a position keeps its row (and so engineers'
    # reading progress of it); only its content changes.
    existing = {lesson.position: lesson for lesson in Lesson.objects.filter(course=course)}
    for position, item in enumerate(lessons, start=1):
        fields = {"title": item["title"], "body": item["body"], "feature": item["feature"]}
        lesson = existing.get(position)
        if lesson is None:
            Lesson.objects.create(course=course, position=position, **fields)
            continue
        for name, value in fields.items():
            setattr(lesson, name, value)
        lesson.save(update_fields=list(fields))
    Lesson.objects.filter(course=course).exclude(
        position__in=list(range(1, len(lessons) + 1))
    ).delete()


def _put_quiz(*, course: Course, quiz_spec: dict | None) -> None:
    quiz = Quiz.objects.filter(course=course).first()
    if quiz_spec is None:
        if quiz is not None:
            if quiz.attempts.exists():
                raise Conflict(
                    gettext(
                        "This course's quiz has attempts, so it cannot be removed; "
                        "keep a quiz in the document."
                    )
                )
            quiz.delete()
        return
    if quiz is None:
        quiz = Quiz(course=course)
    quiz.pass_mark = quiz_spec["pass_mark"]
    quiz.max_attempts = quiz_spec["max_attempts"]
    quiz.save()

    Question.objects.filter(quiz=quiz).delete()
    questions = Question.objects.bulk_create(
        Question(
            quiz=quiz,
            position=position,
            prompt=item["prompt"],
            kind=item["kind"],
            skill=item["skill"],
            feature=item["feature"],
            explanation=item["explanation"],
        )
        for position, item in enumerate(quiz_spec["questions"], start=1)
    )
    Choice.objects.bulk_create(
        Choice(question=question, position=position, text=choice["text"], correct=choice["correct"])
        for question, item in zip(questions, quiz_spec["questions"], strict=True)
        for position, choice in enumerate(item["choices"], start=1)
    )
