"""Saving a course so that the people it is for get it."""

from typing import Any

from django.db import transaction

from core.actors import Actor
from core.queue import enqueue_on_commit
from courses.models import Course, Release
from courses.services.courses import course_put


def course_assign_if_released(*, course: Course) -> None:
    """Queue the fan-out of the course's release after commit when that release is
    published: its engineers get this course as well (the task is idempotent:
    ON CONFLICT DO NOTHING, so a course saved twice is assigned once)."""
    if course.release_id is None:
        return
    status = Release.objects.filter(pk=course.release_id).values_list("status", flat=True).first()
    if status == Release.Status.PUBLISHED:
        enqueue_on_commit("training.tasks.assign_release_training", course.release_id)


@transaction.atomic
def course_save(*, slug: str, document: Any, actor: Actor) -> tuple[Course, bool]:
    """Create or replace the course `slug` from a document (courses.services.courses
    .course_put: all or nothing, raises InvalidInput or Conflict) and, when it is
    tied to a published release, queue `assign_release_training` after commit.

    One transaction: course_put's lock on the release is held until the commit, so a
    publish racing this save either ran its fan-out after it (and sees the course)
    or committed before it (and this call queues the fan-out)."""
    course, created = course_put(slug=slug, document=document, actor=actor)
    # course.release is the row course_put read under its lock: its status is final
    # until this transaction commits.
    if course.release is not None and course.release.status == Release.Status.PUBLISHED:
        enqueue_on_commit("training.tasks.assign_release_training", course.release.pk)
    return course, created
