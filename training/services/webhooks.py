"""Telling an SDK's webhook what happens to its releases, the Standard Webhooks way.

Events: `release.ready` and `release.at_risk` (found by the beat pass,
`releases_notify_ready`), `release.available` and `release.overridden` (made by the
gate, `webhook_announce` from `release_mark_available`). One WebhookDelivery row per
(release, event) makes "once" a database rule: whichever run creates the row queues
the delivery, any other run finds it.

Each attempt POSTs `{"type", "timestamp", "data": {release body, "readiness"}}`
with the headers `webhook-id` (the row's message id, the same on every attempt),
`webhook-timestamp` (the attempt's time) and `webhook-signature` (`v1,` and the
base64 HMAC-SHA256 of `id.timestamp.body` under the SDK's `whsec_` secret), signed
by the official `standardwebhooks` library, so receivers verify with it too and
reject a replay older than its tolerance.

Only a 2xx answer is a delivery. A redirect is not followed (it would send the
signed body somewhere the SDK's owner did not name) and counts as a failed attempt,
like any other answer, a timeout or an unreachable receiver: the task retries with
backoff (PREFLIGHT_WEBHOOK_RETRIES times) and then marks it `failed`. The beat pass
also queues again a delivery whose task was lost before its first attempt, and
marks `failed` one whose retries stopped coming (a lost retry, a crashed task), so
nothing stays pending. The admin's "send again" starts a delivery over.
"""

import json
import logging
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from standardwebhooks import Webhook

from core.queue import enqueue_on_commit
from courses.models import Release
from training.models import WebhookDelivery
from training.readiness import Readiness, reason_text, release_readiness

logger = logging.getLogger(__name__)

Event = WebhookDelivery.Event
# A pending delivery never attempted this long after it was made lost its task. Well
# above a busy queue's delay; the beat task that checks runs every minute.
LOST_AFTER = timedelta(minutes=10)


class WebhookFailed(Exception):
    """The receiver did not take the delivery; worth retrying later."""


def _abandoned_after() -> timedelta:
    """A pending delivery whose last attempt is older than this has no retry coming:
    the longest backoff, one attempt's timeout and a busy queue's delay."""
    return (
        timedelta(seconds=settings.PREFLIGHT_MAX_RETRY_COUNTDOWN)
        + timedelta(seconds=settings.PREFLIGHT_WEBHOOK_TIMEOUT)
        + LOST_AFTER
    )


def _utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def release_body(release: Release) -> dict[str, Any]:
    """The release as the API returns it (training.api.releases.ReleaseSerializer)."""
    return {
        "sdk": release.sdk.slug,
        "version": release.version,
        "status": release.status,
        "customer_available_at": _utc(release.customer_available_at),
        "published_at": _utc(release.published_at),
        "available_at": _utc(release.available_at),
        "notes": release.notes,
        "features": [
            {
                "key": feature.key,
                "title": feature.title,
                "summary": feature.summary,
                "skills": sorted(skill.slug for skill in feature.skills.all()),
            }
            for feature in release.features.prefetch_related("skills").order_by("pk")
        ],
        "courses": sorted(course.slug for course in release.courses.all()),
    }


def _readiness_body(readiness: Readiness) -> dict[str, Any]:
    # English whoever triggered it, and through Django's encoder: it holds datetimes.
    with translation.override("en"):
        blocking = [reason_text(reason) for reason in readiness["reasons"]]
    body = {**readiness, "blocking": blocking}
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def webhook_announce(
    *, release: Release, event: str, readiness: Readiness, now: datetime | None = None
) -> WebhookDelivery | None:
    """Create the delivery of `event` for the release and queue it after commit —
    unless its SDK has no webhook or the event was announced before (None then).
    Safe inside the caller's transaction (a savepoint takes the unique clash)."""
    sdk = release.sdk
    if not sdk.webhook_url:
        return None
    now = now or timezone.now()
    payload = {
        "type": event,
        "timestamp": _utc(now),
        "data": {**release_body(release), "readiness": _readiness_body(readiness)},
    }
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                release=release, event=event, url=sdk.webhook_url, payload=payload, created_at=now
            )
    except IntegrityError:
        return None  # another run created it first; that run queues it
    enqueue_on_commit("training.tasks.deliver_webhook", delivery.pk)
    return delivery


def releases_notify_ready() -> list[int]:
    """The beat pass: announce every published release of an SDK with a webhook that
    is ready (`release.ready`) or else at risk (`release.at_risk`) and was not
    announced so before; queue again the lost deliveries and fail the abandoned ones
    (`webhooks_sweep`). Returns the ids of the deliveries it created."""
    webhooks_sweep()
    candidates = (
        Release.objects.filter(status=Release.Status.PUBLISHED)
        .exclude(sdk__webhook_url="")
        .exclude(webhook_deliveries__event=Event.READY)
        .select_related("sdk")
    )
    created = []
    for release in candidates:  # releases not yet with customers: a handful
        readiness = release_readiness(release)
        if readiness["ready"]:
            event = Event.READY
        elif readiness["at_risk"]:
            event = Event.AT_RISK
        else:
            continue
        delivery = webhook_announce(release=release, event=event, readiness=readiness)
        if delivery is not None:
            created.append(delivery.pk)
    return created


def webhooks_sweep(now: datetime | None = None) -> dict[str, list[int]]:
    """Queue again the deliveries whose task never ran (the broker was down when it
    was queued, or the message was lost: pending, no attempt, long after being
    made); mark `failed` those whose retries stopped (pending, last attempt older
    than any backoff). Returns their ids under `requeued` and `failed`."""
    now = now or timezone.now()
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    lost = list(
        pending.filter(attempts=0, created_at__lt=now - LOST_AFTER).values_list("pk", flat=True)
    )
    for delivery_id in lost:
        logger.warning("webhook delivery %s was never attempted; queueing it again", delivery_id)
        enqueue_on_commit("training.tasks.deliver_webhook", delivery_id)
    abandoned = pending.filter(attempts__gt=0, last_attempt_at__lt=now - _abandoned_after())
    failed = list(abandoned.values_list("pk", flat=True))
    if failed:
        logger.warning("webhook deliveries %s had no retry coming; marked failed", failed)
        WebhookDelivery.objects.filter(pk__in=failed, status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.FAILED
        )
    return {"requeued": lost, "failed": failed}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is the answer, not a pointer to follow: urllib then raises HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def webhook_request(
    delivery: WebhookDelivery, *, secret: str, now: datetime
) -> urllib.request.Request:
    """The signed POST of one attempt."""
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"))
    signature = Webhook(secret).sign(delivery.message_id, now.astimezone(UTC), body)
    return urllib.request.Request(
        delivery.url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Preflight-Webhook/2",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        },
    )


def webhook_deliver(*, delivery: WebhookDelivery) -> bool:
    """POST the delivery once. True once delivered (now or before); False when another
    run claimed this attempt first (it POSTs, not this one); raises WebhookFailed on
    any other answer than 2xx (a redirect included), a timeout or an unreachable
    receiver, so the task retries. Records the attempt (its time, answer code,
    duration, error) on the row. No transaction is held across the network call."""
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return True
    now = timezone.now()
    secret = delivery.release.sdk.webhook_secret
    # Claim this attempt: a run that loaded the same row (a re-queued delivery meeting
    # its original task) finds `attempts` moved on and leaves the POST to this one.
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts)
        .exclude(status=WebhookDelivery.Status.DELIVERED)
        .update(attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if not claimed:
        logger.info("webhook delivery %s is being sent by another run", delivery.pk)
        return False
    if not secret:  # the SDK's constraint forbids it; an SDK changed since, by hand
        _record(delivery, status=None, started=time.monotonic(), error="no signing secret")
        raise WebhookFailed("no signing secret")
    request = webhook_request(delivery, secret=secret, now=now)
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=settings.PREFLIGHT_WEBHOOK_TIMEOUT) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:  # timeouts are OSErrors
        reason = getattr(error, "reason", error)
        _record(delivery, status=None, started=started, error=f"unreachable: {reason}")
        raise WebhookFailed(str(reason)) from error
    if not 200 <= status < 300:
        kind = "redirect, not followed" if 300 <= status < 400 else "refused"
        _record(delivery, status=status, started=started, error=f"HTTP {status} ({kind})")
        raise WebhookFailed(f"HTTP {status}")
    _record(delivery, status=status, started=started, error="", delivered=True)
    return True


def _record(
    delivery: WebhookDelivery,
    *,
    status: int | None,
    started: float,
    error: str,
    delivered: bool = False,
) -> None:
    if error:
        logger.warning("webhook %s for release %s: %s", delivery.pk, delivery.release_id, error)
    fields: dict[str, Any] = {
        "response_status": status,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "last_error": error[:2000],
    }
    if delivered:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now())
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
        status=WebhookDelivery.Status.DELIVERED
    ).update(**fields)


def webhook_give_up(*, delivery_id: int) -> None:
    """The last retry failed: the delivery is `failed`, with its last error kept."""
    WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED
    )


def webhooks_send_again(*, delivery_ids: list[int]) -> int:
    """Start these deliveries over (the admin's "send again"): pending, no attempts,
    to the SDK's current URL, with the same message id (a receiver that took the
    first one can tell); queued after commit. Returns how many."""
    count = 0
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.select_related("release__sdk").filter(
            pk__in=delivery_ids
        )
        for delivery in deliveries.select_for_update(of=("self",)):
            url = delivery.release.sdk.webhook_url or delivery.url
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=WebhookDelivery.Status.PENDING,
                url=url,
                attempts=0,
                response_status=None,
                duration_ms=None,
                last_error="",
                last_attempt_at=None,
                delivered_at=None,
                created_at=timezone.now(),
            )
            enqueue_on_commit("training.tasks.deliver_webhook", delivery.pk)
            count += 1
    return count
