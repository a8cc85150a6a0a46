"""Release webhooks, Standard Webhooks style: a real HTTP receiver on 127.0.0.1
verifies each delivery with the official `standardwebhooks` library, as an SDK
team's service would."""

import importlib
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from core.actors import Actor
from courses.models import Release
from courses.webhooks import new_webhook_secret
from tests.factories import AssignmentFactory, CourseFactory, QuizFactory, ReleaseFactory
from training import tasks
from training.models import Assignment, WebhookDelivery
from training.services import webhooks
from training.services.releases import release_mark_available

SECRET = new_webhook_secret()


class Receiver:
    """An SDK team's endpoint. `status` is its answer; `delay` how long it thinks."""

    def __init__(self, status: int = 204, delay: float = 0, location: str = ""):
        self.status, self.delay, self.location = status, delay, location
        self.calls: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {key.lower(): value for key, value in self.headers.items()}
                call = {"body": body, "headers": headers}
                try:
                    call["verified"] = Webhook(SECRET).verify(body, headers)
                except WebhookVerificationError as error:
                    call["error"] = str(error)
                receiver.calls.append(call)
                time.sleep(receiver.delay)
                try:
                    self.send_response(receiver.status)
                    if receiver.location:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/preflight"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def ready_release(sdk, engineer, receiver):
    sdk.webhook_url, sdk.webhook_secret = receiver.url, SECRET
    sdk.save()
    release = ReleaseFactory(sdk=sdk, version="2.4.0", status=Release.Status.PUBLISHED)
    AssignmentFactory(
        engineer=engineer,
        course=QuizFactory(course=CourseFactory(release=release)).course,
        release=release,
        reason=Assignment.Reason.RELEASE,
        status=Assignment.Status.COMPLETE,
        completed_at=timezone.now(),
    )
    return release


@pytest.fixture
def retries_in_process(monkeypatch):
    """Celery runs an eager task's retries in process (countdowns skipped) — as long
    as eager errors are not propagated, which would stop at the first retry."""
    from training.celery import app

    monkeypatch.setattr(app.conf, "CELERY_TASK_EAGER_PROPAGATES", False)


def pending(release, url, event=WebhookDelivery.Event.READY):
    return WebhookDelivery.objects.create(
        release=release, event=event, url=url, payload={"type": event, "data": {}}
    )


def test_a_ready_release_is_announced_once_and_the_library_verifies_it(
    ready_release, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert len(webhooks.releases_notify_ready()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.releases_notify_ready() == []

    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    body = call["verified"]  # the library's own check passed, and parsed the body
    assert body["type"] == "release.ready"
    assert body["timestamp"].endswith("Z")
    assert (body["data"]["sdk"], body["data"]["version"]) == ("rtm-android", "2.4.0")
    assert body["data"]["status"] == "published"
    assert body["data"]["readiness"]["ready"] is True
    assert call["headers"]["webhook-signature"].startswith("v1,")
    delivery = WebhookDelivery.objects.get()
    assert call["headers"]["webhook-id"] == delivery.message_id
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 1
    assert delivery.response_status == 204 and delivery.duration_ms is not None


def test_a_replayed_delivery_is_rejected_by_the_library(ready_release, receiver):
    webhooks.webhook_deliver(delivery=pending(ready_release, receiver.url))
    call = receiver.calls[0]
    assert "verified" in call

    # An attacker sends the captured request again ten minutes later.
    later = time_machine.travel(timezone.now() + timedelta(minutes=10))
    with later, pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(call["body"], call["headers"])
    # Nor can the timestamp be moved forward without the secret.
    forged = {**call["headers"], "webhook-timestamp": str(int(time.time()) + 600)}
    later = time_machine.travel(timezone.now() + timedelta(minutes=10))
    with later, pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(SECRET).verify(call["body"], forged)


def test_a_redirecting_receiver_is_a_failed_delivery_and_is_not_followed(
    ready_release, receiver, settings, retries_in_process
):
    settings.PREFLIGHT_WEBHOOK_RETRIES = 1
    elsewhere = Receiver(status=204)
    redirecting = Receiver(status=302, location=elsewhere.url)
    try:
        delivery = pending(ready_release, redirecting.url)
        tasks.deliver_webhook.apply(args=[delivery.pk])
    finally:
        redirecting.close()
        elsewhere.close()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert (delivery.attempts, delivery.response_status) == (2, 302)
    assert "redirect" in delivery.last_error
    assert len(redirecting.calls) == 2 and elsewhere.calls == []


def test_a_receiver_slower_than_the_timeout_is_retried_then_marked_failed(
    ready_release, receiver, settings, retries_in_process
):
    settings.PREFLIGHT_WEBHOOK_TIMEOUT = 0.3
    settings.PREFLIGHT_WEBHOOK_RETRIES = 2
    slow = Receiver(status=204, delay=1.5)
    try:
        delivery = pending(ready_release, slow.url)
        assert tasks.deliver_webhook.apply(args=[delivery.pk]).get() is False
        calls = len(slow.calls)
    finally:
        slow.close()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 3 and calls == 3
    assert delivery.response_status is None and "timed out" in delivery.last_error
    assert delivery.delivered_at is None


def test_a_refusing_receiver_keeps_the_answer_and_stays_pending_for_the_retry(
    ready_release, receiver
):
    receiver.status = 503
    delivery = pending(ready_release, receiver.url)
    with pytest.raises(webhooks.WebhookFailed):
        webhooks.webhook_deliver(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert (delivery.attempts, delivery.response_status) == (1, 503)
    assert delivery.last_error == "HTTP 503 (refused)"


def test_a_release_neither_ready_nor_at_risk_is_not_announced(ready_release, receiver):
    Assignment.objects.update(status=Assignment.Status.ASSIGNED, completed_at=None)
    assert webhooks.releases_notify_ready() == []
    assert not WebhookDelivery.objects.exists()


def test_an_at_risk_release_is_announced_at_risk_once(
    ready_release, receiver, django_capture_on_commit_callbacks
):
    Assignment.objects.update(status=Assignment.Status.ASSIGNED, completed_at=None)
    Release.objects.filter(pk=ready_release.pk).update(
        customer_available_at=timezone.now() + timedelta(hours=50)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert len(webhooks.releases_notify_ready()) == 1
        assert webhooks.releases_notify_ready() == []
    body = receiver.calls[0]["verified"]
    assert body["type"] == "release.at_risk"
    assert body["data"]["readiness"]["at_risk"] is True


def test_the_gate_announces_available_and_an_override_too(
    ready_release, receiver, sdk, django_capture_on_commit_callbacks
):
    not_ready = ReleaseFactory(sdk=sdk, version="2.5.0", status=Release.Status.PUBLISHED)
    AssignmentFactory(
        engineer=Assignment.objects.get().engineer,
        course=QuizFactory(course=CourseFactory(release=not_ready)).course,
        release=not_ready,
        reason=Assignment.Reason.RELEASE,
    )
    actor = Actor()
    with django_capture_on_commit_callbacks(execute=True):
        release_mark_available(release=ready_release, actor=actor)
        release_mark_available(release=ready_release, actor=actor)  # already: nothing more
    with django_capture_on_commit_callbacks(execute=True):
        release_mark_available(release=not_ready, actor=actor, override=True, reason="CEO says")

    events = [(c["verified"]["type"], c["verified"]["data"]["version"]) for c in receiver.calls]
    assert sorted(events) == [
        ("release.available", "2.4.0"),
        ("release.available", "2.5.0"),
        ("release.overridden", "2.5.0"),
    ]
    overridden = next(
        c["verified"] for c in receiver.calls if c["verified"]["type"].endswith("den")
    )
    assert overridden["data"]["status"] == "available"
    assert overridden["data"]["readiness"]["ready"] is False
    assert overridden["data"]["readiness"]["blocking"]


def test_the_sweep_requeues_lost_deliveries_and_fails_abandoned_ones(ready_release, receiver):
    long_ago = timezone.now() - timedelta(hours=2)
    lost = pending(ready_release, receiver.url)
    abandoned = pending(ready_release, receiver.url, event=WebhookDelivery.Event.AVAILABLE)
    WebhookDelivery.objects.filter(pk=lost.pk).update(created_at=long_ago)
    WebhookDelivery.objects.filter(pk=abandoned.pk).update(
        created_at=long_ago, attempts=3, last_attempt_at=long_ago, last_error="HTTP 500 (refused)"
    )

    swept = webhooks.webhooks_sweep()

    assert swept == {"requeued": [lost.pk], "failed": [abandoned.pk]}
    abandoned.refresh_from_db()
    assert abandoned.status == WebhookDelivery.Status.FAILED
    assert abandoned.last_error == "HTTP 500 (refused)"


def test_send_again_delivers_a_failed_delivery_with_the_same_message_id(
    ready_release, receiver, django_capture_on_commit_callbacks
):
    delivery = pending(ready_release, "http://127.0.0.1:9/gone")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED, attempts=9, last_error="unreachable"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.webhooks_send_again(delivery_ids=[delivery.pk]) == 1

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert (delivery.attempts, delivery.url, delivery.last_error) == (1, receiver.url, "")
    assert receiver.calls[0]["headers"]["webhook-id"] == delivery.message_id


def test_the_admin_sends_a_delivery_again(
    ready_release, receiver, client, staff, django_capture_on_commit_callbacks
):
    delivery = pending(ready_release, receiver.url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.FAILED)
    client.force_login(staff)
    page = client.get("/admin/training/webhookdelivery/")
    assert page.status_code == 200 and b"Send again" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/admin/training/webhookdelivery/",
            {"action": "send_again", "_selected_action": [delivery.pk]},
        )
    assert answer.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED


def test_old_secrets_keep_their_key_and_a_url_without_one_is_cleared():
    converted = importlib.import_module("courses.migrations.0007_sdk_standard_webhooks").converted
    url, secret = converted("https://a.test/h", "k3y")
    assert (url, secret) == ("https://a.test/h", "whsec_azN5")  # base64 of b"k3y"
    assert Webhook(secret)._whsecret == b"k3y"  # the same HMAC key as before
    assert converted("https://b.test/h", "") == ("", "")
    assert converted("https://c.test/h", SECRET) == ("https://c.test/h", SECRET)
