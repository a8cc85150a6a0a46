"""Celery tasks. Each takes ids, loads, and calls one service; each is safe to run
twice (the services insert with ON CONFLICT DO NOTHING)."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from courses.models import Release
from training.models import WebhookDelivery
from training.services import (
    assignments,
    attempts,
    authoring,
    content_review,
    extensions,
    notifications,
    nudges,
    recertification,
    regrade,
    webhooks,
)
from training.services import reconcile as reconciling

logger = logging.getLogger(__name__)

# Only transient database trouble is retried; a bug fails loudly at once.
_TRANSIENT = (OperationalError, InterfaceError)
_RETRY = {
    "autoretry_for": _TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 300,  # below PREFLIGHT_MAX_RETRY_COUNTDOWN, so the visibility timeout
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(**_RETRY)
def assign_release_training(release_id: int) -> int:
    release = Release.objects.filter(pk=release_id).first()
    if release is None:
        logger.info("release %s is gone; nothing to assign", release_id)
        return 0
    created = assignments.release_assign_training(release=release)
    logger.info("release %s: %s assignments created", release, created)
    return created


@shared_task(**_RETRY)
def assign_engineer_backlog(engineer_id: int) -> int:
    """Kept for messages queued before the batch task; new code queues the batch."""
    return assignments.engineers_assign_backlog(engineer_ids=[engineer_id])


@shared_task(**_RETRY)
def assign_engineers_backlog(engineer_ids: list[int]) -> int:
    return assignments.engineers_assign_backlog(engineer_ids=engineer_ids)


@shared_task(**_RETRY)
def notify_last_failed_attempt(attempt_id: int) -> int:
    return attempts.notify_leads_of_last_failed_attempt(attempt_id=attempt_id)


@shared_task(**_RETRY)
def notify_attempt_graded(attempt_id: int) -> int:
    return attempts.notify_engineer_of_grade(attempt_id=attempt_id)


@shared_task(**_RETRY)
def notify_regraded(event_id: int) -> int:
    return regrade.notify_engineers_of_regrade(event_id=event_id)


@shared_task(**_RETRY)
def notify_authors_course_needed(release_id: int) -> int:
    return authoring.authors_notify_course_needed(release_id=release_id)


@shared_task(**_RETRY)
def flag_stale_content(release_id: int) -> int:
    return content_review.release_flag_stale_content(release_id=release_id)


@shared_task(**_RETRY)
def notify_attempts_granted(event_id: int) -> int:
    return extensions.notify_attempts_granted(event_id=event_id)


@shared_task(**_RETRY)
def notify_assignment_nudged(event_id: int) -> int:
    return nudges.notify_assignment_nudged(event_id=event_id)


@shared_task(**_RETRY)
def send_pending_lead_notices() -> int:
    return attempts.send_pending_lead_notices()


@shared_task(**_RETRY)
def reconcile() -> dict:
    created = reconciling.reconcile()
    if any(created.values()):
        logger.info("reconcile created %s", created)
    return created


@shared_task(**_RETRY)
def assign_recertification() -> dict:
    assigned = recertification.recertification_assign()
    if any(assigned.values()):
        logger.info("recertification: %s", assigned)
    return assigned


@shared_task(**_RETRY)
def send_reminders() -> int:
    return notifications.send_reminders()


@shared_task(**_RETRY)
def send_escalations() -> int:
    return notifications.send_escalations()


@shared_task(**_RETRY)
def notify_ready_releases() -> list[int]:
    return webhooks.releases_notify_ready()


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # The task's own retries are counted against PREFLIGHT_WEBHOOK_RETRIES below.
    max_retries=None,
    time_limit=60,
)
def deliver_webhook(self, delivery_id: int) -> bool:
    delivery = WebhookDelivery.objects.select_related("release__sdk").filter(pk=delivery_id).first()
    if delivery is None:
        return False
    try:
        return webhooks.webhook_deliver(delivery=delivery)
    except webhooks.WebhookFailed as error:
        if self.request.retries >= settings.PREFLIGHT_WEBHOOK_RETRIES:
            webhooks.webhook_give_up(delivery_id=delivery_id)
            return False
        # Backoff doubles from PREFLIGHT_WEBHOOK_BACKOFF_SECONDS (30 s, 60 s, 120 s …),
        # capped at 15 min: settings keep the visibility timeout above the cap.
        countdown = min(
            settings.PREFLIGHT_WEBHOOK_BACKOFF_SECONDS * 2**self.request.retries,
            settings.PREFLIGHT_MAX_RETRY_COUNTDOWN,
        )
        raise self.retry(exc=error, countdown=countdown) from error
