"""Celery tasks. Each takes ids, loads, and calls one service; each is safe to run
twice (the services insert with ON CONFLICT DO NOTHING)."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from courses.models import Release
from training.models import Engineer
from training.services import assignments

logger = logging.getLogger(__name__)

# Only transient database trouble is retried; a bug fails loudly at once.
_TRANSIENT = (OperationalError, InterfaceError)
_RETRY = {
    "autoretry_for": _TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 300,  # well below the broker's visibility timeout
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
    engineer = Engineer.objects.filter(pk=engineer_id).first()
    if engineer is None:
        return 0
    return assignments.engineer_assign_backlog(engineer=engineer)
