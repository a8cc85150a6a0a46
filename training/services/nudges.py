"""A lead's nudge: a reminder sent now, by hand, about one open assignment.

At most one per assignment per `NUDGE_INTERVAL`, enforced by the database: the
nudge claims the assignment with one conditional UPDATE (`nudged_at` empty or older
than the interval). Two leads pressing the button at the same moment both run the
UPDATE; PostgreSQL makes the second wait for the first's row lock and then
re-checks the WHERE clause against the committed row, so exactly one of them
claims it and the other gets a Conflict. The mail goes out from a Celery task
queued on commit (no network call inside the transaction).
"""

import logging
from datetime import datetime, timedelta
from smtplib import SMTPException

from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from core.queue import enqueue_on_commit
from training.models import Assignment, AuditEvent
from training.selectors.dashboard import event_by
from training.services.mail import paragraphs_message, send, site_link

logger = logging.getLogger(__name__)

NUDGE_INTERVAL = timedelta(hours=24)
MESSAGE_MAX = 1000
NUDGED_RECENTLY = "nudged_recently"
_OPEN = (Assignment.Status.ASSIGNED, Assignment.Status.IN_PROGRESS)


@transaction.atomic
def assignment_nudge(
    *, assignment: Assignment, actor: Actor, message: str = "", now: datetime | None = None
) -> AuditEvent:
    """Remind the engineer of this open assignment now, with the lead's optional
    `message` (the why, at most 1000 characters).

    Guarantees at most one nudge per assignment per 24 h, whoever sends it: the
    claim is `UPDATE ... SET nudged_at = now WHERE nudged_at IS NULL OR nudged_at <=
    now - 24 h`, race-safe. Raises InvalidInput naming `message` when it is too
    long; Conflict when the assignment is gone, complete or exempt, or was nudged
    within 24 h (code `nudged_recently`, with `nudged_at` and `next_at` in
    `extra`). Writes an AuditEvent(assignment_nudged) with who, why and when, and
    after commit queues `training.tasks.notify_assignment_nudged` (the mail, in the
    engineer's language, with a link to the course). Returns the event.
    """
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise InvalidInput({"message": [gettext("At most %(n)d characters.") % {"n": MESSAGE_MAX}]})
    now = now or timezone.now()
    claimed = (
        Assignment.objects.filter(pk=assignment.pk, status__in=_OPEN)
        .filter(Q(nudged_at__isnull=True) | Q(nudged_at__lte=now - NUDGE_INTERVAL))
        .update(nudged_at=now)
    )
    if not claimed:
        current = Assignment.objects.filter(pk=assignment.pk).values("status", "nudged_at").first()
        if current is None:
            raise Conflict(gettext("This assignment no longer exists."))
        if current["status"] not in _OPEN:
            raise Conflict(
                gettext("This assignment is done; there is nothing to remind of."),
                status=current["status"],
            )
        nudged_at: datetime = current["nudged_at"] or now  # open and unclaimed: a recent nudge
        raise Conflict(
            gettext("A reminder about this assignment was already sent within the last 24 hours."),
            code=NUDGED_RECENTLY,
            nudged_at=nudged_at.isoformat(),
            next_at=(nudged_at + NUDGE_INTERVAL).isoformat(),
        )
    assignment = Assignment.objects.select_related("engineer__user", "course").get(pk=assignment.pk)
    event = AuditEvent.objects.create(
        kind=AuditEvent.Kind.ASSIGNMENT_NUDGED,
        release_id=assignment.release_id,
        assignment=assignment,
        details={
            "course": assignment.course.slug,
            "engineer": assignment.engineer.user.get_username(),
            "reason": message,
            "by": actor.label,
        },
        created_at=now,
        **actor.audit_fields(),
    )
    enqueue_on_commit("training.tasks.notify_assignment_nudged", event.pk)
    return event


def assignment_link(assignment: Assignment) -> str:
    """The absolute address of the assignment's course, for a mail."""
    return site_link("assignment", assignment.pk)


def notify_assignment_nudged(*, event_id: int) -> int:
    """Mail the engineer the nudge of event `event_id`: who reminds them of which
    course, due when (on their clock), the lead's message and the link to the
    course, in the engineer's language. Nothing for an engineer without an address
    or an assignment done since; a mail server that is down is logged, not raised
    (the nudge stays on the record). Returns messages sent."""
    event = (
        AuditEvent.objects.select_related(
            "actor", "token", "assignment__engineer__user", "assignment__course"
        )
        .filter(pk=event_id, kind=AuditEvent.Kind.ASSIGNMENT_NUDGED)
        .first()
    )
    if event is None or event.assignment is None or event.assignment.is_done:
        return 0
    assignment = event.assignment
    engineer = assignment.engineer
    if not engineer.user.email:
        return 0
    with translation.override(engineer.language):
        facts = {
            "by": event_by(event),
            "course": assignment.course.title,
            "due": formats.date_format(
                timezone.localtime(assignment.due_at, engineer.zone), gettext("D d M Y, H:i T")
            ),
        }
        link = assignment_link(assignment)
        paragraphs = [
            gettext("Hello %(name)s,") % {"name": engineer.name},
            gettext("%(by)s reminds you of your training “%(course)s”, due %(due)s.") % facts,
        ]
        reason = str(event.details.get("reason") or "")
        if reason:
            paragraphs.append(reason)
        message = paragraphs_message(
            subject=gettext("[Preflight] A reminder about %(course)s") % facts,
            paragraphs=paragraphs,
            link=link,
            link_text=gettext("Take it here: %(url)s") % {"url": link},
            link_label=gettext("Open the course"),
            to=[engineer.user.email],
            language=engineer.language,
        )
    try:
        return send(message)
    except (SMTPException, OSError):
        logger.exception("could not mail %s a nudge", engineer.user.email)
        return 0
