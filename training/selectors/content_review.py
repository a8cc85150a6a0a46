"""Which courses and playbooks need their owner's eyes: marked stale by a release, or
past their verification interval (`verify_by` on both models)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q
from django.db.models.functions import Coalesce

from courses.models import Course, Playbook, PlaybookStaleMark, StaleMark
from training.selectors.access import sees_everything


def may_verify(user: Any, content: Course | Playbook) -> bool:
    """The course's or playbook's owner, a support manager or staff."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return content.owner_id == user.pk or sees_everything(user)


@dataclass(frozen=True)
class Review:
    """A course or a playbook to review: its marks, and whether verification is due."""

    content: Course | Playbook
    stale: list[StaleMark] | list[PlaybookStaleMark]
    overdue: bool

    @property
    def since(self) -> str:
        """The first release that made it stale: "rtm-android 2.5.0"."""
        marks: list[StaleMark | PlaybookStaleMark] = list(self.stale)
        first = min(marks, key=lambda mark: mark.release.sort_key, default=None)
        return f"{first.release.sdk.slug} {first.release.version}" if first else ""


def _with_marks():
    return Prefetch(
        "stale_marks",
        queryset=StaleMark.objects.select_related("release__sdk", "lesson", "question"),
    )


def courses_to_review(user: Any, *, now: datetime) -> list[Review]:
    """The published courses `user` keeps (all of them for managers and staff)
    that are stale or overdue for verification, stale first, then the most overdue.
    Three queries whatever the number of courses."""
    courses = Course.objects.filter(status=Course.Status.PUBLISHED).select_related(
        "owner", "release__sdk"
    )
    if not sees_everything(user):
        courses = courses.filter(owner_id=getattr(user, "pk", None))
    reviews = [
        Review(
            content=course, stale=list(course.stale_marks.all()), overdue=course.verify_by <= now
        )
        for course in courses.prefetch_related(_with_marks())
    ]
    due = [review for review in reviews if review.stale or review.overdue]
    return sorted(due, key=lambda r: (not r.stale, r.content.verify_by, r.content.slug))


def playbooks_to_review(user: Any, *, now: datetime) -> list[Review]:
    """The playbooks `user` owns (all of them for managers and staff) that are stale
    or overdue for verification, stale first, then the most overdue. Two queries."""
    # Every interval is a day or more: what was verified (or written) within the
    # last day and has no mark is not due, whatever its interval.
    playbooks = (
        Playbook.objects.annotate(last_verified=Coalesce("verified_at", "created_at"))
        .filter(Q(stale_marks__isnull=False) | Q(last_verified__lte=now - timedelta(days=1)))
        .distinct()
        .select_related("owner")
        .only("slug", "title", "owner", "verified_at", "verify_every_days", "created_at")
    )
    if not sees_everything(user):
        playbooks = playbooks.filter(owner_id=getattr(user, "pk", None))
    marks = Prefetch(
        "stale_marks", queryset=PlaybookStaleMark.objects.select_related("release__sdk")
    )
    reviews = [
        Review(
            content=playbook,
            stale=list(playbook.stale_marks.all()),
            overdue=playbook.verify_by <= now,
        )
        for playbook in playbooks.prefetch_related(marks)
    ]
    due = [review for review in reviews if review.stale or review.overdue]
    return sorted(due, key=lambda r: (not r.stale, r.content.verify_by, r.content.slug))


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
