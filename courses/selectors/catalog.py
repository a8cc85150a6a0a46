"""Reading the catalog: SDKs, skills and courses, joined for the API that shows them."""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext

from core.errors import NotFound
from courses.models import (
    Course,
    Lesson,
    Question,
    QuestionPool,
    QuizSlot,
    Sdk,
    Skill,
    StaleMark,
)


def sdk_list() -> QuerySet[Sdk]:
    return Sdk.objects.order_by("slug")


def sdk_get(*, slug: str) -> Sdk:
    sdk = Sdk.objects.filter(slug=slug).first()
    if sdk is None:
        raise NotFound(gettext("No SDK '%(slug)s'.") % {"slug": slug})
    return sdk


def skill_list() -> QuerySet[Skill]:
    return Skill.objects.order_by("slug")


def skill_get(*, slug: str) -> Skill:
    skill = Skill.objects.filter(slug=slug).first()
    if skill is None:
        raise NotFound(gettext("No skill '%(slug)s'.") % {"slug": slug})
    return skill


def _courses() -> QuerySet[Course]:
    """Courses with everything their API body shows, in a fixed number of queries."""
    return (
        Course.objects.select_related("release__sdk", "quiz", "owner")
        .prefetch_related(
            Prefetch("recertifies", queryset=Skill.objects.order_by("slug")),
            Prefetch(
                "stale_marks",
                queryset=StaleMark.objects.select_related("release__sdk", "lesson", "question"),
            ),
            Prefetch("lessons", queryset=Lesson.objects.select_related("feature")),
            Prefetch(
                "quiz__questions",
                queryset=Question.objects.filter(pool__isnull=True)
                .select_related("skill", "feature")
                .prefetch_related("choices"),
            ),
            Prefetch(
                "quiz__pools",
                queryset=QuestionPool.objects.prefetch_related(
                    Prefetch(
                        "questions",
                        queryset=Question.objects.select_related(
                            "skill", "feature"
                        ).prefetch_related("choices"),
                    )
                ),
            ),
            Prefetch(
                "quiz__slots",
                queryset=QuizSlot.objects.select_related("question", "pool", "feature"),
            ),
        )
        .order_by("slug")
    )


def course_list(
    *, release_sdk: str | None = None, release_version: str | None = None
) -> QuerySet[Course]:
    """All courses, or those of one SDK's releases, or of one release. `release_version`
    must already be normalized (courses.versions.Version)."""
    courses = _courses()
    if release_sdk:
        courses = courses.filter(release__sdk__slug=release_sdk)
    if release_version:
        courses = courses.filter(release__version=release_version)
    return courses


def course_get(*, slug: str) -> Course:
    course = _courses().filter(slug=slug).first()
    if course is None:
        raise NotFound(gettext("No course '%(slug)s'.") % {"slug": slug})
    return course
