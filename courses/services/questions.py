"""Questions from Moodle files (GIFT, Moodle XML) into a course's pools, and a
course's questions as GIFT.

The import writes through the course document: the course as `course_to_document`
reads it, with the file's questions added to its pools, goes through
`course_put`, so the questions are validated, sanitised and versioned exactly as
a `PUT /api/v1/courses/{slug}/` would.
"""

from collections import defaultdict
from typing import Any, Literal, TypedDict

from django.db import transaction
from django.utils.translation import gettext, ngettext

from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound
from courses.documents import (
    MAX_POOL_QUESTIONS,
    QuestionDocumentSerializer,
    course_to_document,
    quiz_to_document,
)
from courses.models import Course, Quiz, Release
from courses.moodle import DEFAULT_POOL, MoodleError, Parsed
from courses.moodle.gift import parse_gift, write_gift
from courses.moodle.xml import parse_moodle_xml
from courses.services.courses import course_put

FileFormat = Literal["gift", "xml"]
# Errors listed in one answer; a file with more says how many there were.
MAX_LISTED_ERRORS = 50


class SkippedQuestion(TypedDict):
    name: str
    reason: str


class ImportResult(TypedDict):
    imported: int  # questions written: added, or replacing one of the same id
    replaced: int  # of those, how many replaced a question of the same `id`
    pools: list[str]  # the pools written to, in the order first written
    skipped: list[SkippedQuestion]


def questions_parse(*, data: bytes | str, file_format: FileFormat) -> Parsed:
    """Read a GIFT or Moodle XML file; InvalidInput naming the line or element when
    it cannot be read. A GIFT file is UTF-8 text."""
    try:
        if file_format == "xml":
            return parse_moodle_xml(data.encode() if isinstance(data, str) else data)
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MoodleError(
                    f"byte {exc.start + 1}", "a GIFT file is UTF-8 text, and this is not"
                ) from None
        return parse_gift(data)
    except MoodleError as exc:
        raise InvalidInput({"detail": f"{exc.where}: {exc.message}"}) from exc


def _check_questions(parsed: Parsed) -> None:
    """Each question by the course document's own validator, so the errors name
    the line or element of the file rather than a place in the course."""
    if len(parsed.questions) > MAX_POOL_QUESTIONS:
        # Checked before each question is validated: that is the costly part.
        raise InvalidInput(
            {
                "detail": gettext("A file may hold at most %(max)d questions; this one has %(n)d.")
                % {"max": MAX_POOL_QUESTIONS, "n": len(parsed.questions)}
            }
        )
    errors = []
    seen: set[str] = set()
    for imported in parsed.questions:
        serializer = QuestionDocumentSerializer(data=imported.question)
        found: dict[str, Any] = {} if serializer.is_valid() else dict(serializer.errors)
        identifier = imported.question.get("id")
        if identifier in seen:
            found.setdefault("id", []).append(
                gettext("Two questions have the id '%(id)s'.") % {"id": identifier}
            )
        if identifier:
            seen.add(identifier)
        if found:
            errors.append({"where": imported.where, "name": imported.name, "errors": found})
    if errors:
        raise InvalidInput(
            {
                "detail": ngettext(
                    "%(n)d question of the file is not valid; nothing was imported.",
                    "%(n)d questions of the file are not valid; nothing was imported.",
                    len(errors),
                )
                % {"n": len(errors)},
                "questions": errors[:MAX_LISTED_ERRORS],
            }
        )
    if not parsed.questions:
        raise InvalidInput(
            {
                "detail": gettext("The file has no question Preflight can import."),
                "skipped": parsed.skipped[:MAX_LISTED_ERRORS],
            }
        )


def _no_course(slug: str) -> NotFound:
    return NotFound(gettext("No course '%(slug)s'.") % {"slug": slug})


def _lock_course(slug: str) -> Course:
    """The course, locked as course_put locks it: its release first, then the
    course, so an import and a PUT or publish never wait on each other in turn."""
    release_ids = list(Course.objects.filter(slug=slug).values_list("release_id", flat=True))
    if not release_ids:
        raise _no_course(slug)
    if release_ids[0] is not None:
        Release.objects.select_for_update(of=("self",), no_key=True).filter(
            pk=release_ids[0]
        ).first()
    course = Course.objects.select_for_update().filter(slug=slug).first()
    if course is None:  # deleted meanwhile
        raise _no_course(slug)
    return course


def questions_import(
    *,
    slug: str,
    data: bytes | str,
    file_format: FileFormat,
    pool: str | None,
    actor: Actor,
) -> ImportResult:
    """Add the questions of a Moodle file to the pools of course `slug`'s quiz.

    Guarantees:
    - All or nothing: a file that cannot be read, or any question of it that is not
      valid as a course-document question, is an InvalidInput naming the line or
      element and nothing is written; so is a file with no question to import.
      Questions of kinds Preflight lacks (cloze, calculated, …) are skipped and
      reported, and the others are imported.
    - The pool is `pool` when given; else the file's category (GIFT `$CATEGORY:`,
      XML category question; its last part) before each question; else
      `imported`. A pool that does not exist is created. Questions are appended,
      except that a question whose `id` (Moodle's idnumber) names one already in
      that pool replaces it (a new version when it differs).
    - The quiz asks what it asked before: a quiz without slots gets one slot per
      question it asks, so a new pool is a bank that slots may then draw from.
    - The course must have a quiz (Conflict otherwise), and is written by
      course_put: the same validation, sanitising and versioning as a PUT.
      Queues nothing (the course's release and status do not change).
    """
    if not Course.objects.filter(slug=slug).exists():
        raise _no_course(slug)
    parsed = questions_parse(data=data, file_format=file_format)
    _check_questions(parsed)
    with transaction.atomic():
        course = _lock_course(slug)
        document = course_to_document(course)
        # Kept as they are: absent keys leave the course's owner and interval alone
        # (an owner who has left would otherwise fail validation).
        document.pop("owner", None)
        document.pop("verify_every_days", None)
        quiz = document.get("quiz")
        if quiz is None:
            raise Conflict(
                gettext(
                    "Course '%(slug)s' has no quiz to hold pools: put the course with a quiz first."
                )
                % {"slug": slug}
            )
        pools: list[dict[str, Any]] = quiz.setdefault("pools", [])
        by_name = {item["name"]: item for item in pools}
        # Where each id is: a pool's name, or None for the quiz's own questions.
        elsewhere: dict[str, str | None] = {q["id"]: None for q in quiz["questions"] if q.get("id")}
        for item in pools:
            elsewhere |= {q["id"]: item["name"] for q in item["questions"] if q.get("id")}
        written: dict[str, int] = defaultdict(int)
        replaced = 0
        id_errors = []
        for imported in parsed.questions:
            name = pool or imported.category or DEFAULT_POOL
            target = by_name.get(name)
            if target is None:
                target = by_name[name] = {"name": name, "questions": []}
                pools.append(target)
            identifier = imported.question.get("id")
            place = next(
                (
                    index
                    for index, question in enumerate(target["questions"])
                    if identifier and question.get("id") == identifier
                ),
                None,
            )
            if place is not None:
                target["questions"][place] = imported.question
                replaced += 1
            elif identifier and elsewhere.get(identifier, name) != name:
                id_errors.append(
                    {
                        "where": imported.where,
                        "name": imported.name,
                        "errors": {
                            "id": [
                                gettext("Another pool of the course has the id '%(id)s'.")
                                % {"id": identifier}
                            ]
                        },
                    }
                )
                continue
            else:
                target["questions"].append(imported.question)
            if identifier:
                elsewhere[identifier] = name
            written[name] += 1
        if id_errors:
            raise InvalidInput(
                {
                    "detail": ngettext(
                        "%(n)d question of the file is not valid; nothing was imported.",
                        "%(n)d questions of the file are not valid; nothing was imported.",
                        len(id_errors),
                    )
                    % {"n": len(id_errors)},
                    "questions": id_errors[:MAX_LISTED_ERRORS],
                }
            )
        if not quiz.get("slots"):
            quiz["slots"] = [{"question": index} for index in range(len(quiz["questions"]))]
        course_put(slug=slug, document=document, actor=actor)
    return {
        "imported": sum(written.values()),
        "replaced": replaced,
        "pools": list(written),
        "skipped": [
            SkippedQuestion(name=item["name"], reason=item["reason"]) for item in parsed.skipped
        ],
    }


def questions_export_gift(*, slug: str, pool: str | None = None) -> str:
    """The questions of course `slug` as GIFT: the quiz's own questions, then each
    pool under its `$CATEGORY:`; only pool `pool` when given. Importing the text
    gives back the questions GIFT can express (see courses.moodle.gift)."""
    course = Course.objects.filter(slug=slug).first()
    if course is None:
        raise _no_course(slug)
    quiz = Quiz.objects.filter(course=course).first()
    document = quiz_to_document(quiz) if quiz is not None else {"questions": []}
    sections: list[tuple[str | None, list[dict[str, Any]]]] = []
    if pool is None:
        sections.append((None, document["questions"]))
    pools = {item["name"]: item["questions"] for item in document.get("pools", [])}
    if pool is not None and pool not in pools:
        raise NotFound(
            gettext("Course '%(slug)s' has no pool '%(pool)s'.") % {"slug": slug, "pool": pool}
        )
    sections += [(name, questions) for name, questions in pools.items() if pool in (None, name)]
    return write_gift(sections, title=f"{course.title} ({course.slug})")
