"""A lead's exceptions for one person: more quiz attempts, a later due date.

Both lock the assignment row first (SELECT ... FOR UPDATE), so two leads acting at
once add up instead of overwriting each other, and a quiz passed at the same
moment either completes the assignment before (Conflict) or finds it changed.
Both need a reason and write an AuditEvent with who, when, why and the value
before and after, in the same transaction.
"""

import logging
from datetime import datetime
from smtplib import SMTPException

from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from core.queue import enqueue_on_commit
from training.models import Assignment, AuditEvent
from training.readiness.keep import readiness_changed
from training.selectors.dashboard import event_by
from training.services.mail import paragraphs_message, send, site_link

logger = logging.getLogger(__name__)

EXTRA_MIN, EXTRA_MAX = 1, 10
REASON_MAX = 1000


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": [gettext("Give the reason.")]})
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": [gettext("At most %(n)d characters.") % {"n": REASON_MAX}]})
    return reason


def _lock_open(assignment: Assignment) -> Assignment:
    """The assignment, locked until the commit; Conflict when it is gone or done."""
    locked = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("engineer__user", "course")
        .filter(pk=assignment.pk)
        .first()
    )
    if locked is None:
        raise Conflict(gettext("This assignment no longer exists."))
    if locked.status == Assignment.Status.COMPLETE:
        raise Conflict(
            gettext("This assignment is complete; there is nothing left to allow."),
            status=locked.status,
        )
    if locked.status == Assignment.Status.EXEMPT:
        raise Conflict(
            gettext("This assignment is exempt; there is nothing left to allow."),
            status=locked.status,
        )
    return locked


@transaction.atomic
def assignment_grant_attempts(
    *, assignment: Assignment, extra: int, reason: str, actor: Actor
) -> Assignment:
    """Allow `extra` (1 to 10) more quiz attempts on this one assignment, on top of
    the quiz's `max_attempts` and any attempts granted before.

    Raises InvalidInput naming `extra` or `reason` (which is required), Conflict on
    a complete or exempt assignment; nothing is written then. Writes an
    AuditEvent(assignment_attempts_granted) with the attempts allowed before and
    after, and, after commit, queues `training.tasks.notify_attempts_granted`
    (a mail to the engineer, in their language). Readiness is unchanged: a grant
    changes no status and no due date. Returns the assignment as it now is.
    """
    if (
        isinstance(extra, bool)
        or not isinstance(extra, int)
        or not (EXTRA_MIN <= extra <= EXTRA_MAX)
    ):
        raise InvalidInput(
            {
                "extra": [
                    gettext("Grant from %(min)d to %(max)d attempts.")
                    % {"min": EXTRA_MIN, "max": EXTRA_MAX}
                ]
            }
        )
    reason = _require_reason(reason)
    locked = _lock_open(assignment)
    before = locked.extra_attempts
    locked.extra_attempts = before + extra
    locked.save(update_fields=["extra_attempts"])
    event = AuditEvent.objects.create(
        kind=AuditEvent.Kind.ASSIGNMENT_ATTEMPTS_GRANTED,
        release_id=locked.release_id,
        assignment=locked,
        details={
            "course": locked.course.slug,
            "engineer": locked.engineer.user.get_username(),
            "extra": extra,
            "extra_attempts_before": before,
            "extra_attempts_after": locked.extra_attempts,
            "reason": reason,
            "by": actor.label,
        },
        **actor.audit_fields(),
    )
    enqueue_on_commit("training.tasks.notify_attempts_granted", event.pk)
    return locked


@transaction.atomic
def assignment_extend(
    *, assignment: Assignment, due_at: datetime, reason: str, actor: Actor
) -> Assignment:
    """Set this one person's due date by hand (later, or earlier while in the
    future), and mark it as set by hand.

    `due_at` must be aware (any offset: it is one instant, so a DST change between
    now and then moves nothing), in the future and not before the assignment was
    made; InvalidInput names `due_at` or `reason` otherwise. Conflict on a complete
    or exempt assignment. A later slip of the customer date leaves the new date
    alone unless the release's due date moves past it
    (training.services.releases._move_due_dates). Writes an
    AuditEvent(assignment_extended) with the due date before and after, and marks
    the release's readiness as changed (who is overdue may change). Queues nothing.
    """
    if not isinstance(due_at, datetime) or timezone.is_naive(due_at):
        raise InvalidInput(
            {"due_at": [gettext("Give a time with its UTC offset, e.g. 2026-12-15T09:00:00Z.")]}
        )
    reason = _require_reason(reason)
    now = timezone.now()
    if due_at <= now:
        raise InvalidInput({"due_at": [gettext("The due date must be in the future.")]})
    locked = _lock_open(assignment)
    if due_at < locked.assigned_at:
        raise InvalidInput(
            {"due_at": [gettext("The due date cannot be before the assignment was made.")]}
        )
    before = locked.due_at
    locked.due_at = due_at
    locked.extended_at = now
    locked.save(update_fields=["due_at", "extended_at"])
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.ASSIGNMENT_EXTENDED,
        release_id=locked.release_id,
        assignment=locked,
        details={
            "course": locked.course.slug,
            "engineer": locked.engineer.user.get_username(),
            "due_at_before": before.isoformat(),
            "due_at_after": due_at.isoformat(),
            "reason": reason,
            "by": actor.label,
        },
        created_at=now,
        **actor.audit_fields(),
    )
    if locked.release_id is not None:
        readiness_changed(release_ids=[locked.release_id])
    return locked


def notify_attempts_granted(*, event_id: int) -> int:
    """Mail the engineer that a lead granted them more attempts, with the reason, in
    the engineer's language. An engineer without an address is not mailed; a mail
    server that is down is logged, not raised (the grant stands and the dashboard
    shows it). Returns messages sent."""
    event = (
        AuditEvent.objects.select_related(
            "actor", "token", "assignment__engineer__user", "assignment__course"
        )
        .filter(pk=event_id, kind=AuditEvent.Kind.ASSIGNMENT_ATTEMPTS_GRANTED)
        .first()
    )
    if event is None or event.assignment is None:
        return 0
    engineer = event.assignment.engineer
    if not engineer.user.email:
        return 0
    facts = {
        "by": event_by(event),
        "n": int(event.details.get("extra", 1)),
        "course": event.assignment.course.title,
        "reason": event.details.get("reason", ""),
    }
    with translation.override(engineer.language):
        link = site_link("assignment", event.assignment.pk)
        message = paragraphs_message(
            subject=ngettext(
                "[Preflight] One more attempt at %(course)s",
                "[Preflight] %(n)d more attempts at %(course)s",
                facts["n"],
            )
            % facts,
            paragraphs=[
                ngettext(
                    "%(by)s granted you %(n)d more attempt at the quiz of “%(course)s”: %(reason)s",
                    "%(by)s granted you %(n)d more attempts at the quiz of “%(course)s”: "
                    "%(reason)s",
                    facts["n"],
                )
                % facts,
                gettext("Due: %(due)s")
                % {
                    "due": formats.date_format(
                        timezone.localtime(event.assignment.due_at, engineer.zone),
                        gettext("D d M Y, H:i T"),
                    )
                },
            ],
            link=link,
            link_text=gettext("Take it here: %(url)s") % {"url": link},
            link_label=gettext("Open the course"),
            to=[engineer.user.email],
            language=engineer.language,
        )
    try:
        return send(message)
    except (SMTPException, OSError):
        logger.exception("could not mail %s about granted attempts", engineer.user.email)
        return 0
