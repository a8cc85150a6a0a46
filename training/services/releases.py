"""What a release does to people: publishing (and its fan-out), moving due dates
with the customer date, and the readiness gate.

The release pipeline retries and duplicates its calls, so every service here is
idempotent: publishing a published release does nothing, marking an available
release available changes nothing. Each runs in one transaction and locks the
release row (SELECT ... FOR NO KEY UPDATE) before deciding anything from its state,
so two concurrent calls are serialised by the database instead of both acting on a
stale read. Recording a release and its features is content
(courses.services.releases).
"""

from datetime import datetime

from django.db import transaction
from django.db.models import F, Value
from django.db.models.fields import DateTimeField
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from core.queue import enqueue_on_commit
from courses.models import Release
from courses.services.courses import course_draft_for_release
from courses.services.releases import (
    OPEN,
    FeatureSpec,
    features_normalise,
    features_resolve_skills,
    features_signature,
    release_features_replace,
    release_label,
    release_lock,
    release_status_label,
    release_stored_features,
    require_aware,
    require_due_in_range,
)
from training.models import Assignment, AuditEvent
from training.readiness import reason_text, release_readiness_fresh
from training.readiness.keep import readiness_changed
from training.services.webhooks import Event, webhook_announce


def _move_due_dates(release: Release) -> int:
    """Move the due date of the release's open fan-out assignments to the release's
    due date (never before the assignment was made: the check constraint wants
    due >= assigned). A lead's own assignments keep the date the lead chose, and so
    does one person's date a lead set by hand (`extended_at`) — unless the release's
    new due date is later than it: then the assignment follows the release again
    (the extension was meant to give more time, never less). Moved dates change who
    is overdue: the release's readiness is marked as changed."""
    release_due = Value(release.due_at, output_field=DateTimeField())
    open_fanout = Assignment.objects.filter(
        release=release, reason=Assignment.Reason.RELEASE
    ).exclude(status__in=Assignment.DONE)
    moved = open_fanout.filter(extended_at__isnull=True).update(
        due_at=Greatest(release_due, F("assigned_at"))
    )
    # due_at >= assigned_at already, so the later release date needs no Greatest.
    moved += open_fanout.filter(extended_at__isnull=False, due_at__lt=release.due_at).update(
        due_at=release_due, extended_at=None
    )
    if moved:
        readiness_changed(release_ids=[release.pk])
    return moved


@transaction.atomic
def release_publish(*, release: Release, actor: Actor) -> tuple[Release, bool]:
    """Publish a draft release; returns (release, newly_published).

    If the release has no course, a draft course is made from its features (one
    lesson per feature) so training can start before anyone writes a course. Writes
    an AuditEvent(release_published) and, after commit, queues
    `training.tasks.assign_release_training` — only when this call published it, so
    a retried or concurrent publish never queues the fan-out twice (and the fan-out
    itself is idempotent anyway). Publishing a published release returns it
    unchanged; an available or withdrawn one raises Conflict.
    """
    release = release_lock(release)
    if release.status == Release.Status.PUBLISHED:
        return release, False
    if release.status != Release.Status.DRAFT:
        raise Conflict(
            gettext("Release %(release)s is %(status)s; only a draft can be published.")
            % {"release": release_label(release), "status": release_status_label(release)},
            status=release.status,
        )
    now = timezone.now()
    release.status = Release.Status.PUBLISHED
    release.published_at = now
    release.updated_at = now
    release.save(update_fields=["status", "published_at", "updated_at"])
    course = None if release.courses.exists() else course_draft_for_release(release)
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.RELEASE_PUBLISHED,
        release=release,
        details={"by": actor.label, "draft_course": course.slug if course else None},
        created_at=now,
        **actor.audit_fields(),
    )
    enqueue_on_commit("training.tasks.assign_release_training", release.pk)
    # What it removes or deprecates may still be taught by the SDK's other courses.
    enqueue_on_commit("training.tasks.flag_stale_content", release.pk)
    if course is not None:
        # A draft never makes the release ready: its authors are told at once.
        enqueue_on_commit("training.tasks.notify_authors_course_needed", release.pk)
    return release, True


@transaction.atomic
def release_reschedule(
    *, release: Release, customer_available_at: datetime, actor: Actor
) -> Release:
    """Move the customer date (earlier or later) until the release is available.

    The release's fan-out assignments that are not done move with it: due at the
    new customer date less the lead time, never before they were assigned.
    Assignments a lead made by hand keep their date. Raises Conflict once the
    release is available or withdrawn. Queues nothing.
    """
    require_aware(customer_available_at)
    require_due_in_range(customer_available_at)
    release = release_lock(release)
    if release.status not in OPEN:
        raise Conflict(
            gettext("Release %(release)s is %(status)s; its customer date is final.")
            % {"release": release_label(release), "status": release_status_label(release)},
            status=release.status,
        )
    if release.customer_available_at == customer_available_at:
        return release
    release.customer_available_at = customer_available_at
    release.updated_at = timezone.now()
    release.save(update_fields=["customer_available_at", "updated_at"])
    _move_due_dates(release)
    return release


@transaction.atomic
def release_update(
    *,
    release: Release,
    actor: Actor,
    customer_available_at: datetime | None = None,
    notes: str | None = None,
    features: list[FeatureSpec] | None = None,
) -> Release:
    """Change what was given (None = leave as is) until the release is available.

    Features can change only while the release is a draft; on a published release
    the same features are accepted and different ones raise Conflict. A new customer
    date goes through `release_reschedule`. Queues nothing.
    """
    release = release_lock(release)
    if release.status not in OPEN:
        raise Conflict(
            gettext("Release %(release)s is %(status)s; it can no longer change.")
            % {"release": release_label(release), "status": release_status_label(release)},
            status=release.status,
        )
    if features is not None:
        features = features_normalise(features)
        skills = features_resolve_skills(features)
        if release.status != Release.Status.DRAFT:
            if features_signature(release_stored_features(release)) != features_signature(features):
                raise Conflict(
                    gettext("Release %(release)s is %(status)s; its features can no longer change.")
                    % {"release": release_label(release), "status": release_status_label(release)},
                    status=release.status,
                )
        else:
            release_features_replace(release, features, skills)
    if notes is not None and notes != release.notes:
        release.notes = notes
        release.updated_at = timezone.now()
        release.save(update_fields=["notes", "updated_at"])
    if customer_available_at is not None:
        release = release_reschedule(
            release=release, customer_available_at=customer_available_at, actor=actor
        )
    return release


@transaction.atomic
def release_mark_available(
    *, release: Release, actor: Actor, override: bool = False, reason: str = ""
) -> Release:
    """Let customers have the release — if support is ready.

    Readiness is counted afresh (never from its snapshot) under the release's row
    lock. Ready: the release becomes
    available and an AuditEvent(release_available) records it. Not ready: Conflict
    with `blocking` (the readiness reasons) and nothing changes — unless `override`,
    which needs a reason (InvalidInput otherwise; the caller checks the
    `releases:override` permission) and writes an AuditEvent(release_override) with
    who, when, why and the full readiness at that moment, in the same transaction.
    An available release is returned unchanged; a draft or withdrawn one raises
    Conflict. Queues the SDK webhook's `release.available` delivery (and
    `release.overridden` first when overriding), after commit.
    """
    release = release_lock(release)
    if release.status == Release.Status.AVAILABLE:
        return release
    if release.status != Release.Status.PUBLISHED:
        raise Conflict(
            gettext(
                "Release %(release)s is %(status)s; only a published release can become available."
            )
            % {"release": release_label(release), "status": release_status_label(release)},
            status=release.status,
            blocking=[
                gettext("the release is %(status)s") % {"status": release_status_label(release)}
            ],
        )
    now = timezone.now()
    readiness = release_readiness_fresh(release, now=now)
    overriding = not readiness["ready"]
    reason = (reason or "").strip()
    if overriding:
        if not override:
            raise Conflict(
                gettext("Support is not ready for %(release)s.")
                % {"release": release_label(release)},
                blocking=readiness["blocking"],
                reasons=readiness["reasons"],
            )
        if not reason:
            raise InvalidInput({"reason": [gettext("Give the reason for overriding the gate.")]})
    release.status = Release.Status.AVAILABLE
    release.available_at = now
    release.updated_at = now
    release.save(update_fields=["status", "available_at", "updated_at"])
    with translation.override("en"):  # the record reads the same whoever looks at it
        blocking = [reason_text(item) for item in readiness["reasons"]]
    snapshot = {**readiness, "due_at": readiness["due_at"].isoformat(), "blocking": blocking}
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.RELEASE_OVERRIDE if overriding else AuditEvent.Kind.RELEASE_AVAILABLE,
        release=release,
        details={
            "by": actor.label,
            "at": now.isoformat(),
            "reason": reason if overriding else "",
            "readiness": snapshot,
        },
        created_at=now,
        **actor.audit_fields(),
    )
    # The SDK's webhook hears of it once the gate's transaction commits.
    if overriding:
        webhook_announce(release=release, event=Event.OVERRIDDEN, readiness=readiness, now=now)
    webhook_announce(release=release, event=Event.AVAILABLE, readiness=readiness, now=now)
    return release
