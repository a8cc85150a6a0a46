"""Writing courses: from documents (see courses.documents), and the draft course a
release gets when it is published without one."""

import hashlib
import json
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from core.fields import field_max_length
from courses.documents import LessonSpec, QuestionSpec, QuizSpec, default_uid, document_validate
from courses.models import (
    Choice,
    Course,
    Feature,
    Lesson,
    Question,
    QuestionPool,
    Quiz,
    QuizSlot,
    Release,
)

_COURSE_SLUG_MAX = field_max_length(Course, "slug")


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
    - `recertifies` is replaced as a whole: the course renews exactly the skills
      the document names (none when it names none).

    Queues nothing: training.services.courses.course_save assigns the course when
    its release (`course.release`, as read under the lock) is published.
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
        if course is None:
            try:
                with transaction.atomic():
                    course = Course.objects.create(slug=slug, title=spec["title"])
            except IntegrityError:
                # Another PUT created it first: replace theirs, after they commit.
                course = Course.objects.select_for_update().get(slug=slug)
                created = False
        course.title = spec["title"]
        course.description = spec["description"]
        course.release = release
        course.status = spec["status"]
        course.language = spec["language"]
        course.updated_at = timezone.now()
        fields = ["title", "description", "release", "status", "language", "updated_at"]
        if "owner" in spec:
            course.owner = spec["owner"]
            fields.append("owner")
        if "verify_every_days" in spec:
            course.verify_every_days = spec["verify_every_days"]
            fields.append("verify_every_days")
        course.save(update_fields=fields)
        course.recertifies.set(spec["recertifies"])
        _put_lessons(course=course, lessons=spec["lessons"])
        _put_quiz(course=course, quiz_spec=spec["quiz"])

    return course, created


def _put_lessons(*, course: Course, lessons: list[LessonSpec]) -> None:
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


def _put_quiz(*, course: Course, quiz_spec: QuizSpec | None) -> None:
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
    quiz.review = quiz_spec["review"]
    quiz.save()

    # Versions: a question keeps its version while its content is unchanged, and
    # goes one up when a replacement changes it (see Question). Read before the rows
    # are replaced; attempts keep their own snapshot of what they were asked.
    previous = {
        uid: (version, digest)
        for uid, version, digest in Question.objects.filter(quiz=quiz).values_list(
            "uid", "version", "digest"
        )
    }
    QuizSlot.objects.filter(quiz=quiz).delete()
    Question.objects.filter(quiz=quiz).delete()
    QuestionPool.objects.filter(quiz=quiz).delete()
    pools = QuestionPool.objects.bulk_create(
        QuestionPool(quiz=quiz, name=pool["name"], position=position)
        for position, pool in enumerate(quiz_spec["pools"], start=1)
    )
    placed: list[tuple[QuestionPool | None, int, QuestionSpec]] = [
        (None, number, item) for number, item in enumerate(quiz_spec["questions"], start=1)
    ]
    for pool_row, pool_spec in zip(pools, quiz_spec["pools"], strict=True):
        placed += [(pool_row, n, item) for n, item in enumerate(pool_spec["questions"], start=1)]
    rows = []
    for position, (pool, number, item) in enumerate(placed, start=1):
        uid = item["id"] or default_uid(
            pool=pool.name if pool is not None else None, position=number
        )
        digest = _digest(item)
        version, old_digest = previous.get(uid, (0, digest))
        rows.append(
            Question(
                quiz=quiz,
                pool=pool,
                position=position,
                uid=uid,
                version=max(version, 1) + (version > 0 and digest != old_digest),
                digest=digest,
                prompt=item["prompt"],
                kind=item["kind"],
                skill=item["skill"],
                feature=item["feature"],
                explanation=item["explanation"],
                spec=item["spec"],
            )
        )
    questions = Question.objects.bulk_create(rows)
    Choice.objects.bulk_create(
        Choice(
            question=question,
            position=position,
            text=choice["text"],
            correct=choice["correct"],
            fraction=choice["fraction"],
        )
        for question, (_, _, item) in zip(questions, placed, strict=True)
        for position, choice in enumerate(item["choices"], start=1)
    )
    pool_by_name = {pool.name: pool for pool in pools}
    QuizSlot.objects.bulk_create(
        QuizSlot(
            quiz=quiz,
            position=position,
            question=questions[slot["question"]] if slot["question"] is not None else None,
            pool=pool_by_name[slot["pool"]] if slot["pool"] is not None else None,
            draw=slot["draw"],
            feature=slot["feature"],
        )
        for position, slot in enumerate(quiz_spec["slots"], start=1)
    )


def _digest(item: QuestionSpec) -> str:
    """What a question asks and accepts, as a hash: equal digests, same version."""
    content = {
        "prompt": item["prompt"],
        "kind": item["kind"],
        "skill": item["skill"].slug if item["skill"] else None,
        "feature": item["feature"].key if item["feature"] else None,
        "explanation": item["explanation"],
        "choices": item["choices"],
        "spec": item["spec"],
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _course_slug(release: Release) -> str:
    """A course slug from the SDK and version that no course has yet.

    Versions differing only in punctuation (4.0.0-rc.1, 4.0.0-rc-1) make one base;
    the second gets the first free `-2`, `-3`…. Free when read: a concurrent
    publish may take it before our insert, which `course_draft_for_release` retries."""
    base = re.sub(r"[^a-z0-9]+", "-", f"{release.sdk.slug}-{release.version}".lower())
    base = base.strip("-")[: _COURSE_SLUG_MAX - 4].rstrip("-")
    taken = set(Course.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _lesson_body(feature: Feature) -> str:
    """A lesson skeleton for authors: the feature's words, what the changelog says
    of it, and a checklist (task list) of what to write, with a question stub."""
    body = feature.summary.strip() or "_No summary yet._"
    facts = []
    if feature.kind:
        facts.append(f"**Change:** {feature.kind}" + (" (breaking)" if feature.breaking else ""))
    if feature.module:
        facts.append(f"**Module:** {feature.module}")
    if feature.symbols:
        facts.append("**API:** " + ", ".join(f"`{symbol}`" for symbol in feature.symbols))
    skills = [skill.slug for skill in feature.skills.all()]
    if skills:
        facts.append("**Skills:** " + ", ".join(f"`{slug}`" for slug in skills))
    if facts:
        body += "\n\n" + "  \n".join(facts)
    if not feature.kind:
        return body
    symbol = f"`{feature.symbols[0]}`" if feature.symbols else feature.title
    stub = _QUESTION_STUBS.get(feature.kind, _QUESTION_STUBS["changed"]).format(
        version=feature.release.version, symbol=symbol, title=feature.title
    )
    checklist = [
        "Explain what changed and why a customer would care",
        "Show the code before and after" if feature.symbols else "Show how a customer uses it",
        "Say what customers will report to support, and the first thing to check",
        f"Write a quiz question, e.g.: {stub}",
    ]
    if feature.breaking:
        checklist.insert(2, "Give the migration steps for apps on the previous version")
    return body + "\n\n### For the author\n\n" + "\n".join(f"- [ ] {item}" for item in checklist)


_QUESTION_STUBS = {
    "added": "Which customer problem does {title} solve, and how is it turned on?",
    "changed": "What behaves differently after {version} ({title}), and how would a "
    "customer notice?",
    "deprecated": "{symbol} is deprecated in {version}: what should a customer do before it goes?",
    "removed": "A customer on {version} still calls {symbol}: what happens, and what replaces it?",
    "security": "What must customers on versions before {version} do about {title}?",
}


_SLUG_ATTEMPTS = 5


def course_draft_for_release(release: Release) -> Course:
    """A draft course made from the release's features, one lesson per feature to
    train (from a changelog: each with a checklist for its author and a question
    stub; fixes listed together), or the release notes when it has none, so
    training can start before anyone writes the course. The caller holds the
    release's lock."""
    features = list(release.features.prefetch_related("skills"))
    for attempt in range(1, _SLUG_ATTEMPTS + 1):
        slug = _course_slug(release)
        try:
            # A savepoint: a slug taken by a concurrent publish (or course PUT) since
            # we read it fails the insert alone. On PostgreSQL the insert waited for
            # that transaction's commit, so the next read sees the slug as taken.
            with transaction.atomic():
                course = Course.objects.create(
                    slug=slug,
                    title=f"{release.sdk.name} {release.version} — what's new",
                    description=release.notes,
                    release=release,
                    status=Course.Status.DRAFT,
                )
            break
        except IntegrityError:
            if attempt == _SLUG_ATTEMPTS:
                raise
    # Each feature to train (a fix only when marked so) gets a lesson; the fixes
    # that are not trained are listed together, so engineers still know of them.
    trained = [feature for feature in features if feature.train]
    lessons = [
        Lesson(
            course=course,
            position=position,
            title=feature.title,
            body=_lesson_body(feature),
            feature=feature,
        )
        for position, feature in enumerate(trained, start=1)
    ]
    fixes = [feature for feature in features if not feature.train]
    if fixes:
        lessons.append(
            Lesson(
                course=course,
                position=len(lessons) + 1,
                title="Also fixed in this release",
                body="\n".join(f"- {feature.title}" for feature in fixes),
            )
        )
    if not lessons:
        # A course with no lesson would count as done unread; the notes are the lesson.
        lessons = [
            Lesson(
                course=course,
                position=1,
                title="Release notes",
                body=release.notes.strip() or "_No release notes yet._",
            )
        ]
    Lesson.objects.bulk_create(lessons)
    return course
