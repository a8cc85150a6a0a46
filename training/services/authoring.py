"""Telling content authors that a release waits on its course.

A release published without a course gets a draft made from its features
(training.services.releases.release_publish), and a draft never makes a release
ready. The authors (staff, who write courses in the admin or push documents) are
mailed once per release; the lead home and the release admin list the releases still
waiting, soonest customer date first (training.selectors.authoring).
"""

import logging
from collections import defaultdict
from smtplib import SMTPException

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from courses.models import Course, Release
from training.models import AuditEvent
from training.services.mail import paragraphs_message, person_languages, send, site_link

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
        authors = list(
            get_user_model()
            .objects.filter(is_staff=True, is_active=True)
            .exclude(email="")
            .values_list("pk", "email")
        )
        recipients = sorted({email for _, email in authors})
        if not courses or not recipients:
            return 0
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.AUTHORS_TOLD,
            release=release,
            details={"courses": courses, "recipients": recipients},
            created_at=timezone.now(),
        )
    # Each author reads it in their language: one mail per language.
    languages = person_languages(pk for pk, _ in authors)
    by_language: dict[str, set[str]] = defaultdict(set)
    for pk, email in authors:
        by_language[languages.get(pk, settings.LANGUAGE_CODE)].add(email)
    link = site_link("lead_release", release.sdk.slug, release.version)
    sent = 0
    for language, emails in sorted(by_language.items()):
        with translation.override(language):
            facts = {
                "release": f"{release.sdk.slug} {release.version}",
                "customer": formats.date_format(release.customer_available_at, "DATETIME_FORMAT"),
                "due": formats.date_format(release.due_at, "DATETIME_FORMAT"),
                "courses": ", ".join(courses),
            }
            message = paragraphs_message(
                subject=gettext("[Preflight] %(release)s is waiting on its course") % facts,
                paragraphs=[
                    gettext(
                        "%(release)s is published and its engineers are assigned the draft course "
                        "%(courses)s. A draft never makes the release ready: publish the course "
                        'with a quiz (PUT /api/v1/courses/<slug>/ with "status": "published", '
                        "the admin, or manage.py import_course)."
                    )
                    % facts,
                    gettext("Customers get it %(customer)s; training is due %(due)s.") % facts,
                ],
                link=link,
                link_text=gettext("The release: %(url)s") % {"url": link},
                link_label=gettext("Open the release"),
                to=sorted(emails),
                language=language,
            )
        try:
            sent += send(message)
        except (SMTPException, OSError):
            logger.exception("could not email the authors about release %s", release_id)
    return sent
