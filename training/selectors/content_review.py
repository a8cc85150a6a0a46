"""Which courses need their owner's eyes: marked stale by a release, or past their
verification interval (courses.models.Course.verify_by)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from courses.models import Course, StaleMark
from training.selectors.access import sees_everything


def may_verify(user: Any, course: Course) -> bool:
    """The course's owner, a support manager or staff."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return course.owner_id == user.pk or sees_everything(user)


@dataclass(frozen=True)
class CourseReview:
    course: Course
    stale: list[StaleMark]
    overdue: bool

    @property
    def since(self) -> str:
        """The first release that made it stale: "rtm-android 2.5.0"."""
        first = min(self.stale, key=lambda mark: mark.release.sort_key, default=None)
        return f"{first.release.sdk.slug} {first.release.version}" if first else ""


def _with_marks():
    return Prefetch(
        "stale_marks",
        queryset=StaleMark.objects.select_related("release__sdk", "lesson", "question"),
    )


def courses_to_review(user: Any, *, now: datetime) -> list[CourseReview]:
    """The published courses `user` keeps (all of them for managers and staff)
    that are stale or overdue for verification, stale first, then the most overdue.
    Three queries whatever the number of courses."""
    courses = Course.objects.filter(status=Course.Status.PUBLISHED).select_related(
        "owner", "release__sdk"
    )
    if not sees_everything(user):
        courses = courses.filter(owner_id=getattr(user, "pk", None))
    reviews = [
        CourseReview(
            course=course, stale=list(course.stale_marks.all()), overdue=course.verify_by <= now
        )
        for course in courses.prefetch_related(_with_marks())
    ]
    due = [review for review in reviews if review.stale or review.overdue]
    return sorted(due, key=lambda r: (not r.stale, r.course.verify_by, r.course.slug))


def course_stale_marks(course: Course) -> list[StaleMark]:
    """A course's marks, with their releases, lessons and questions: one query."""
    return list(
        StaleMark.objects.filter(course=course).select_related("release__sdk", "lesson", "question")
    )


def lesson_stale_marks(lesson_id: int) -> list[StaleMark]:
    """What makes a lesson suspect, for the notice engineers see on it: one query."""
    return list(
        StaleMark.objects.filter(lesson_id=lesson_id)
        .select_related("release__sdk")
        .order_by("release__sort_key")
    )


def course_stale_since(course_id: int) -> StaleMark | None:
    """The course's first stale mark by release (its "needs review since"): one query."""
    return (
        StaleMark.objects.filter(course_id=course_id)
        .select_related("release__sdk")
        .order_by("release__sort_key", "id")
        .first()
    )
