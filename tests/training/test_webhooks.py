"""The 'release is ready' webhook: a real HTTP receiver on 127.0.0.1 checks the
signature the way an SDK team's service would."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from courses.models import Release
from tests.factories import AssignmentFactory, CourseFactory, QuizFactory, ReleaseFactory
from training.models import Assignment, WebhookDelivery
from training.services.webhooks import WebhookFailed, releases_notify_ready, webhook_deliver

SECRET = "s3cret-shared-with-the-sdk-team"


class Receiver:
    def __init__(self, status: int = 204):
        self.status = status
        self.calls: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                receiver.calls.append(
                    {
                        "body": json.loads(body),
                        "valid": hmac.compare_digest(
                            expected, self.headers["X-Preflight-Signature"]
                        ),
                        "delivery": self.headers["X-Preflight-Delivery"],
                    }
                )
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
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


def test_a_ready_release_is_announced_once_with_a_valid_signature(
    ready_release, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert len(releases_notify_ready()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert releases_notify_ready() == []

    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    assert call["valid"]
    assert call["body"]["event"] == "release.ready"
    assert (call["body"]["sdk"], call["body"]["version"]) == ("rtm-android", "2.4.0")
    assert call["body"]["readiness"]["ready"] is True
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 1
    assert call["delivery"] == str(delivery.pk)


def test_a_release_that_is_not_ready_is_not_announced(ready_release, receiver):
    Assignment.objects.update(status=Assignment.Status.ASSIGNED, completed_at=None)
    assert releases_notify_ready() == []
    assert not WebhookDelivery.objects.exists()


def test_a_refusing_receiver_raises_for_a_retry_and_keeps_the_error(ready_release, receiver):
    receiver.status = 503
    pending = WebhookDelivery.objects.create(
        release=ready_release, url=receiver.url, payload={"event": "release.ready"}
    )
    with pytest.raises(WebhookFailed):
        webhook_deliver(delivery=pending)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.attempts == 1 and delivery.last_error == "HTTP 503"
