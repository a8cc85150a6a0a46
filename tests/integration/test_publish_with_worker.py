"""Publishing a release on the real services: PostgreSQL, Redis and a Celery worker.

The proof that a publish over HTTP reaches every in-scope engineer exactly once,
through the broker and a separate worker process, and that concurrent pipelines
cannot duplicate anything.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from courses.models import Course, Release
from tests.factories import EngineerFactory, SdkFactory, SkillFactory, TeamFactory
from training.models import Assignment, AuditEvent
from training.services.tokens import token_issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RELEASES = "/api/v1/releases/"
PUBLISH = RELEASES + "rtm-android/2.4.0/publish/"
CLIENTS = 20


@pytest.fixture
def raw_token(db) -> str:
    return token_issue(name="pipeline", scopes=["releases"])[1]


def pipeline_client(raw_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    return client


@pytest.fixture
def staffed(db):
    """Two teams support rtm-android (five active engineers over three regions);
    one inactive engineer, one engineer of another SDK and one without a team do not
    count."""
    android = SdkFactory(slug="rtm-android", name="RTM SDK for Android")
    SkillFactory(slug="message-ordering")
    apac = TeamFactory(slug="apac-rtm", sdks=[android])
    follow_the_sun = TeamFactory(slug="sun-rtm", sdks=[android, SdkFactory(slug="rtc-ios")])
    in_scope = [
        EngineerFactory(team=apac, region="APAC", timezone="Asia/Shanghai"),
        EngineerFactory(team=apac, region="APAC", timezone="Asia/Tokyo"),
        EngineerFactory(team=follow_the_sun, region="EMEA", timezone="Europe/Berlin"),
        EngineerFactory(team=follow_the_sun, region="AMER", timezone="America/New_York"),
        EngineerFactory(team=follow_the_sun, region="AMER", timezone="America/Los_Angeles"),
    ]
    EngineerFactory(team=apac, active=False)
    EngineerFactory(team=TeamFactory(slug="web", sdks=[SdkFactory(slug="rtm-web")]))
    EngineerFactory(team=None)
    return {e.pk for e in in_scope}


def record(client: APIClient, customer_available_at: str) -> Release:
    response = client.post(
        RELEASES,
        {
            "sdk": "rtm-android",
            "version": "v2.4.0",
            "customer_available_at": customer_available_at,
            "features": [
                {
                    "key": "message-edit",
                    "title": "Edit sent messages",
                    "summary": "How edits are ordered.",
                    "skills": ["message-ordering"],
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return Release.objects.get()


def test_publishing_over_http_makes_the_worker_assign_every_in_scope_engineer_once(
    celery_worker, staffed, raw_token
):
    client = pipeline_client(raw_token)
    release = record(client, "2030-03-30T09:00:00+02:00")

    response = client.post(PUBLISH)

    assert response.status_code == 202
    assignments = Assignment.objects.filter(release=release)
    celery_worker.wait_for(
        lambda: assignments.count() >= len(staffed), what="the fan-out by the worker"
    )
    assert client.post(PUBLISH).status_code == 200
    time.sleep(1)  # a duplicated message, were there one, would be consumed by now
    assert set(assignments.values_list("engineer_id", flat=True)) == staffed
    assert assignments.count() == len(staffed)
    due = {a.due_at for a in assignments}
    assert due == {datetime(2030, 3, 28, 7, 0, tzinfo=UTC)}  # customer date - 48 h
    course = Course.objects.get(release=release)
    assert (course.slug, course.status) == ("rtm-android-2-4-0", Course.Status.DRAFT)
    assert {a.course_id for a in assignments} == {course.pk}
    assert "assign_release_training" in celery_worker.log()


def test_twenty_concurrent_publishes_answer_one_202_and_assign_once(
    celery_worker, staffed, raw_token
):
    release = record(pipeline_client(raw_token), (timezone.now() + timedelta(hours=30)).isoformat())
    start = threading.Barrier(CLIENTS)

    def publish(_: int) -> int:
        try:
            client = pipeline_client(raw_token)
            start.wait(timeout=30)
            return client.post(PUBLISH).status_code
        finally:
            connection.close()  # each thread had its own connection

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        codes = list(pool.map(publish, range(CLIENTS)))

    assert sorted(codes) == [200] * (CLIENTS - 1) + [202]
    assignments = Assignment.objects.filter(release=release)
    celery_worker.wait_for(
        lambda: assignments.count() >= len(staffed), what="the fan-out by the worker"
    )
    assert set(assignments.values_list("engineer_id", flat=True)) == staffed
    assert assignments.count() == len(staffed)
    # The customer date is closer than the lead time: due at once, i.e. when assigned.
    assert all(a.due_at == a.assigned_at for a in assignments)
    assert Course.objects.filter(release=release).count() == 1
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.RELEASE_PUBLISHED).count() == 1


def test_twenty_concurrent_identical_recordings_make_one_release(staffed, raw_token):
    body = {
        "sdk": "rtm-android",
        "version": "2.5.0",
        "customer_available_at": "2030-06-01T09:00:00Z",
        "features": [{"key": "pinning", "title": "Pin", "skills": ["message-ordering"]}],
    }
    start = threading.Barrier(CLIENTS)

    def post(_: int) -> int:
        try:
            client = pipeline_client(raw_token)
            start.wait(timeout=30)
            return client.post(RELEASES, body, format="json").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        codes = list(pool.map(post, range(CLIENTS)))

    assert sorted(codes) == [200] * (CLIENTS - 1) + [201]
    release = Release.objects.get(version="2.5.0")
    assert list(release.features.values_list("key", flat=True)) == ["pinning"]
