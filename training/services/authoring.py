"""Telling content authors that a release waits on its course.

A release published without a course gets a draft made from its features
(training.services.releases.release_publish), and a draft never makes a release
ready. The authors (staff, who write courses in the admin or push documents) are
mailed once per release; the lead home and the release admin list the releases still
waiting, soonest customer date first (training.selectors.authoring).
"""

import logging
from smtplib import SMTPException

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from courses.models import Course, Release
from training.models import AuditEvent

logger = logging.getLogger(__name__)


def authors_notify_course_needed(*, release_id: int) -> int:
    """Mail the authors that `release` waits on its course; returns mails sent.

    Once per release: the claim is an AuditEvent(authors_told), written under the
    release's row lock, so a retried or duplicated task finds it and sends nothing.
    Nothing is sent (or claimed) once the release no longer waits, or when no author
    has an address. A mail server that is down is logged; the lists in the pages
    still show the release."""
    with transaction.atomic():
        release = (
            Release.objects.select_for_update(of=("self",), no_key=True)
            .select_related("sdk")
            .filter(pk=release_id, status=Release.Status.PUBLISHED)
            .first()
        )
        if release is None:
            return 0
        if AuditEvent.objects.filter(release=release, kind=AuditEvent.Kind.AUTHORS_TOLD).exists():
            return 0
        courses = list(
            Course.objects.filter(release=release, status=Course.Status.DRAFT).values_list(
                "slug", flat=True
            )
        )
        recipients = sorted(
            set(
                get_user_model()
                .objects.filter(is_staff=True, is_active=True)
                .exclude(email="")
                .values_list("email", flat=True)
            )
        )
        if not courses or not recipients:
            return 0
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.AUTHORS_TOLD,
            release=release,
            details={"courses": courses, "recipients": recipients},
            created_at=timezone.now(),
        )
    with translation.override(settings.LANGUAGE_CODE):
        facts = {
            "release": f"{release.sdk.slug} {release.version}",
            "customer": formats.date_format(release.customer_available_at, "DATETIME_FORMAT"),
            "due": formats.date_format(release.due_at, "DATETIME_FORMAT"),
            "courses": ", ".join(courses),
        }
        subject = gettext("[Preflight] %(release)s is waiting on its course") % facts
        body = (
            gettext(
                "%(release)s is published and its engineers are assigned the draft course "
                "%(courses)s. A draft never makes the release ready: publish the course "
                'with a quiz (PUT /api/v1/courses/<slug>/ with "status": "published", '
                "the admin, or manage.py import_course)."
            )
            % facts
            + "\n\n"
            + gettext("Customers get it %(customer)s; training is due %(due)s.") % facts
            + "\n"
        )
    try:
        return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except (SMTPException, OSError):
        logger.exception("could not email the authors about release %s", release_id)
        return 0
