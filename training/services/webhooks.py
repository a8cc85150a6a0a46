"""Telling an SDK's webhook that a release's support team is ready.

One WebhookDelivery row per release (a OneToOne constraint) makes "once per release"
a database rule: whichever run creates the row queues the delivery, any other run
finds it. The POST carries a JSON body signed with HMAC-SHA256 of the SDK's secret in
`X-Preflight-Signature: sha256=<hex>`, and the delivery's id in
`X-Preflight-Delivery` so a receiver can drop a redelivery after a lost answer.
A delivery whose task was lost before its first attempt is queued again by the next
beat run; each attempt is claimed on the row first, so two tasks of one delivery do
not both POST.
"""

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from courses.models import Release
from training.models import WebhookDelivery
from training.readiness import release_readiness

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Preflight-Signature"
# A pending delivery never attempted this long after it was made lost its task. Well
# above a busy queue's delay; the beat task that checks runs every minute.
LOST_AFTER = timedelta(minutes=10)


class WebhookFailed(Exception):
    """The receiver did not take the delivery; worth retrying later."""


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def releases_notify_ready() -> list[int]:
    """Create the delivery of every published release that is ready now, whose SDK
    has a webhook and that was not told before; queue each (after commit). Also
    queues again any delivery whose task was lost (`_requeue_lost`). Returns the ids
    of the deliveries it created."""
    from core.queue import enqueue_on_commit

    candidates = (
        Release.objects.filter(status=Release.Status.PUBLISHED, webhook_delivery__isnull=True)
        .exclude(sdk__webhook_url="")
        .select_related("sdk")
    )
    created = []
    _requeue_lost()
    for release in candidates:  # releases not yet with customers: a handful
        readiness = release_readiness(release)
        if not readiness["ready"]:
            continue
        payload = {
            "event": "release.ready",
            "sdk": release.sdk.slug,
            "version": release.version,
            "customer_available_at": release.customer_available_at.isoformat(),
            # Through Django's encoder: readiness holds datetimes.
            "readiness": json.loads(json.dumps(readiness, cls=DjangoJSONEncoder)),
        }
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    release=release, url=release.sdk.webhook_url, payload=payload
                )
                enqueue_on_commit("training.tasks.deliver_webhook", delivery.pk)
        except IntegrityError:
            continue  # another run created it first; that run queues it
        created.append(delivery.pk)
    return created


def _requeue_lost(now: datetime | None = None) -> list[int]:
    """Queue again the deliveries whose task never ran: the broker was down when it
    was queued (core.queue logs that and goes on), or the message was lost. Such
    a delivery is still pending with no attempt long after it was made; one that was
    attempted is in Celery's retry chain and is left to it. Returns their ids."""
    from core.queue import enqueue_on_commit

    before = (now or timezone.now()) - LOST_AFTER
    lost = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, attempts=0, created_at__lt=before
        ).values_list("pk", flat=True)
    )
    for delivery_id in lost:
        logger.warning("webhook delivery %s was never attempted; queueing it again", delivery_id)
        enqueue_on_commit("training.tasks.deliver_webhook", delivery_id)
    return lost


def webhook_deliver(*, delivery: WebhookDelivery) -> bool:
    """POST the delivery. True once delivered (now or before); False when another run
    claimed this attempt first (it POSTs, not this one); raises WebhookFailed on a
    refused or unreachable receiver so the task retries with backoff. No transaction
    is held open across the network call."""
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return True
    secret = delivery.release.sdk.webhook_secret
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    request = urllib.request.Request(
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Preflight-Webhook/1",
            "X-Preflight-Event": "release.ready",
            "X-Preflight-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: sign(body, secret),
        },
    )
    # Claim this attempt: a run that loaded the same row (a re-queued delivery meeting
    # its original task) finds `attempts` moved on and leaves the POST to this one.
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts)
        .exclude(status=WebhookDelivery.Status.DELIVERED)
        .update(attempts=F("attempts") + 1)
    )
    if not claimed:
        logger.info("webhook delivery %s is being sent by another run", delivery.pk)
        return False
    try:
        with urllib.request.urlopen(request, timeout=settings.PREFLIGHT_WEBHOOK_TIMEOUT) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        _failed(delivery, f"unreachable: {error}")
        raise WebhookFailed(str(error)) from error
    if not 200 <= status < 300:
        _failed(delivery, f"HTTP {status}")
        raise WebhookFailed(f"HTTP {status}")
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
        status=WebhookDelivery.Status.DELIVERED
    ).update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now(), last_error="")
    return True


def _failed(delivery: WebhookDelivery, error: str) -> None:
    logger.warning("webhook for release %s failed: %s", delivery.release_id, error)
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
        status=WebhookDelivery.Status.DELIVERED
    ).update(last_error=error[:2000])


def webhook_give_up(*, delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED
    )
