"""Keeping courses and playbooks true: marking what a release made stale, telling
the people who own it, and verifying a course or a playbook again.

The content side (which lessons, questions and playbooks name what a release
removed or deprecated; clearing the marks) is courses.services.stale. Training adds
who: the owners (else the authors, staff with an address) are mailed once per
release, and a verification is an audit row naming who confirmed the content.
"""

import logging
from collections.abc import Callable
from smtplib import SMTPException

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import NotFound
from courses.models import Course, Playbook, Release
from courses.services.stale import (
    course_mark_verified,
    playbook_mark_verified,
    release_mark_stale_content,
    release_mark_stale_playbooks,
)
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
        playbooks = release_mark_stale_playbooks(release)
        if not courses and not playbooks:
            return 0
        owner_ids = [course.owner_id for course in courses] + [p.owner_id for p in playbooks]
        owners = {owner for owner in owner_ids if owner}
        users = get_user_model().objects.filter(is_active=True).exclude(email="")
        recipients = sorted(
            set(users.filter(pk__in=owners).values_list("email", flat=True))
            | (
                set()
                if all(owner_ids)
                else set(users.filter(is_staff=True).values_list("email", flat=True))
            )
        )
        slugs = [course.slug for course in courses]
        playbook_slugs = [playbook.slug for playbook in playbooks]
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.CONTENT_STALE,
            release=release,
            details={"courses": slugs, "playbooks": playbook_slugs, "recipients": recipients},
            created_at=timezone.now(),
        )
    if not recipients:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        facts = {
            "release": f"{release.sdk.slug} {release.version}",
            "courses": ", ".join(slugs) or "-",
            "playbooks": ", ".join(playbook_slugs) or "-",
        }
        subject = gettext("[Preflight] %(release)s made course content stale") % facts
        body = (
            gettext(
                "%(release)s removes or changes API that this content still teaches. "
                "Courses: %(courses)s. Playbooks: %(playbooks)s. Review the marked "
                "lessons, questions and playbooks, then verify each on the content "
                "review page."
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
    return _verify(
        course,
        actor=actor,
        clear=course_mark_verified,
        kind=AuditEvent.Kind.COURSE_VERIFIED,
        details={},
        course=course,
    )


def playbook_verify(*, playbook: Playbook, actor: Actor) -> int:
    """`actor` confirms `playbook` is still true, as `course_verify` does for a
    course. Raises NotFound for someone who is neither its owner, a support manager
    nor staff."""
    return _verify(
        playbook,
        actor=actor,
        clear=playbook_mark_verified,
        kind=AuditEvent.Kind.PLAYBOOK_VERIFIED,
        details={"playbook": playbook.slug},
    )


def _verify(
    content: Course | Playbook,
    *,
    actor: Actor,
    clear: Callable[..., int],
    kind: str,
    details: dict,
    course: Course | None = None,
) -> int:
    """Clear `content`'s marks with `clear` and write the `kind` audit row, in one
    transaction, if `actor` may verify it."""
    if actor.user is None or not may_verify(actor.user, content):
        raise NotFound(gettext("Not found."))
    with transaction.atomic():
        now = timezone.now()
        cleared = clear(content, now=now)
        AuditEvent.objects.create(
            kind=kind,
            course=course,
            details={**details, "by": actor.label, "stale_marks_cleared": cleared},
            created_at=now,
            **actor.audit_fields(),
        )
    return cleared
