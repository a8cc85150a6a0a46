"""Keeping courses true: marking what a release made stale, telling the people who
own it, and verifying a course again.

The content side (which lessons and questions name what a release removed or
deprecated; clearing the marks) is courses.services.stale. Training adds who: the
course's owner (else the authors, staff with an address) is mailed once per
release, and a verification is an audit row naming who confirmed the course.
"""

import logging
from smtplib import SMTPException

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import NotFound
from courses.models import Course, Release
from courses.services.stale import course_mark_verified, release_mark_stale_content
from training.models import AuditEvent
from training.selectors.content_review import may_verify

logger = logging.getLogger(__name__)


def release_flag_stale_content(*, release_id: int) -> int:
    """Mark the content `release` made stale and tell its owners; returns mails sent.
    Once per release: the claim is an AuditEvent(content_stale) under the release's
    lock, so a retried task marks (idempotently) and mails nothing twice."""
    with transaction.atomic():
        release = (
            Release.objects.select_for_update(of=("self",), no_key=True)
            .select_related("sdk")
            .filter(pk=release_id)
            .first()
        )
        if release is None:
            return 0
        if AuditEvent.objects.filter(release=release, kind=AuditEvent.Kind.CONTENT_STALE).exists():
            return 0
        courses = release_mark_stale_content(release)
        if not courses:
            return 0
        owners = {course.owner_id for course in courses if course.owner_id}
        users = get_user_model().objects.filter(is_active=True).exclude(email="")
        recipients = sorted(
            set(users.filter(pk__in=owners).values_list("email", flat=True))
            | (
                set()
                if all(course.owner_id for course in courses)
                else set(users.filter(is_staff=True).values_list("email", flat=True))
            )
        )
        slugs = [course.slug for course in courses]
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.CONTENT_STALE,
            release=release,
            details={"courses": slugs, "recipients": recipients},
            created_at=timezone.now(),
        )
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        facts = {"release": f"{release.sdk.slug} {release.version}", "courses": ", ".join(slugs)}
        subject = gettext("[Preflight] %(release)s made course content stale") % facts
        body = (
            gettext(
                "%(release)s removes or changes API that these courses still teach: "
                "%(courses)s. Review the marked lessons and questions, then verify each "
                "course on the content review page."
            )
            % facts
            + "\n"
        )
    try:
        return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except (SMTPException, OSError):
        logger.exception("could not email the owners about release %s", release_id)
        return 0


def course_verify(*, course: Course, actor: Actor) -> int:
    """`actor` confirms `course` is still true: its stale marks are cleared, its
    verification interval restarts, and an audit row says who. Returns the marks
    cleared. Raises NotFound for a draft, and for someone who is
    neither its owner, a support manager nor staff (as for a course they cannot see)."""
    if course.status != Course.Status.PUBLISHED:
        raise NotFound(gettext("Only a published course is verified."))
    if actor.user is None or not may_verify(actor.user, course):
        raise NotFound(gettext("Not found."))
    with transaction.atomic():
        now = timezone.now()
        cleared = course_mark_verified(course, now=now)
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.COURSE_VERIFIED,
            course=course,
            details={"by": actor.label, "stale_marks_cleared": cleared},
            created_at=now,
            **actor.audit_fields(),
        )
    return cleared
