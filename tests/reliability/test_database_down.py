"""The database unreachable during a request: a clean 503, nothing half-written.

The test process talks to PostgreSQL through a TCP proxy it controls (the shared
server is never stopped): refusing connections makes the database unreachable, and
cutting them in the middle of a service's transaction is the network failing
mid-request. What was written before the cut must be gone; a retry once the
database is back succeeds as if the first call had never happened.
"""

from unittest import mock

import psycopg
import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from courses.models import Course, Feature, Lesson, Release
from courses.services import courses as course_services
from courses.services import releases as release_services
from tests.factories import EngineerFactory, SdkFactory, SkillFactory, TeamFactory
from tests.reliability.stack import TcpProxy, free_port
from training.models import AuditEvent
from training.services import releases as publishing
from training.services.tokens import token_issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RELEASE = {
    "sdk": "rtm-android",
    "version": "2.4.0",
    "customer_available_at": "2030-12-15T09:00:00Z",
    "features": [
        {"key": "message-edit", "title": "Edit", "skills": ["message-ordering"]},
        {"key": "pinning", "title": "Pin", "skills": ["message-ordering"]},
    ],
}
COURSE = {
    "title": "RTM Android 2.4",
    "release": {"sdk": "rtm-android", "version": "2.4.0"},
    "lessons": [
        {"title": "Editing", "body": "…", "feature": "message-edit"},
        {"title": "Pinning", "body": "…", "feature": "pinning"},
    ],
    "quiz": {
        "pass_mark": 80,
        "max_attempts": 3,
        "questions": [
            {
                "prompt": "Which?",
                "kind": "single",
                "skill": "message-ordering",
                "feature": "message-edit",
                "explanation": "Because.",
                "choices": [{"text": "A", "correct": True}, {"text": "B"}],
            }
        ],
    },
}


@pytest.fixture
def proxied_db(transactional_db):
    """Route this process's database connection through a proxy; yields the proxy
    and a function counting rows over a direct connection (the truth)."""
    settings_dict = connection.settings_dict
    original_port = settings_dict["PORT"]
    proxy = TcpProxy(int(original_port or 5432), settings_dict.get("HOST") or "127.0.0.1")
    direct = psycopg.connect(
        host=settings_dict.get("HOST") or "127.0.0.1",
        port=int(original_port or 5432),
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
        autocommit=True,
    )

    def rows(model) -> int:
        return direct.execute(f"SELECT count(*) FROM {model._meta.db_table}").fetchone()[0]

    connection.close()
    settings_dict["PORT"] = str(proxy.port)
    try:
        yield proxy, rows
    finally:
        connection.close()
        settings_dict["PORT"] = original_port
        proxy.close()
        direct.close()


@pytest.fixture
def catalog(transactional_db):
    SdkFactory(slug="rtm-android")
    SkillFactory(slug="message-ordering")


def _client(*scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token_issue(name="t", scopes=list(scopes))[1])
    return client


def _cut_after(proxy: TcpProxy, target):
    """A stand-in for `target` that does its work, then loses the database."""

    def run(*args, **kwargs):
        result = target(*args, **kwargs)
        proxy.cut()
        return result

    return run


def _assert_clean_503(response, *, json: bool = True) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "Traceback" not in body and "psycopg" not in body
    if json:
        assert response.json() == {"detail": "The database is unavailable. Try again shortly."}


def test_every_kind_of_request_is_a_clean_503_while_the_database_is_unreachable(catalog, engineer):
    pipeline = _client("releases")
    catalog_client = _client("catalog")
    people = Client()
    people.force_login(engineer.user)
    settings_dict = connection.settings_dict
    original_port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = str(free_port())  # nothing listens there: connection refused
    try:
        _assert_clean_503(pipeline.post("/api/v1/releases/", RELEASE, format="json"))
        _assert_clean_503(pipeline.get("/api/v1/releases/"))
        _assert_clean_503(pipeline.post("/api/v1/releases/rtm-android/2.4.0/publish/"))
        _assert_clean_503(catalog_client.put("/api/v1/courses/c/", COURSE, format="json"))
        _assert_clean_503(people.get("/"), json=False)
        _assert_clean_503(people.get("/skills/"), json=False)
        _assert_clean_503(
            Client().post("/accounts/login/", {"username": "alice", "password": "x"}),
            json=False,
        )
        health = Client().get("/healthz")
        assert health.status_code == 503
        assert health.json()["database"] == "down"
    finally:
        connection.close()
        settings_dict["PORT"] = original_port
    assert Client().get("/healthz").status_code == 200


def test_losing_the_database_while_recording_a_release_writes_nothing(catalog, proxied_db):
    proxy, rows = proxied_db
    pipeline = _client("releases")
    cut = _cut_after(proxy, release_services.release_features_replace)
    with mock.patch.object(release_services, "release_features_replace", cut):
        response = pipeline.post("/api/v1/releases/", RELEASE, format="json")

    _assert_clean_503(response)
    assert (rows(Release), rows(Feature)) == (0, 0)

    proxy.restore()
    retried = pipeline.post("/api/v1/releases/", RELEASE, format="json")
    assert retried.status_code == 201, retried.content
    assert (rows(Release), rows(Feature)) == (1, 2)


def test_losing_the_database_while_putting_a_course_writes_nothing(catalog, proxied_db):
    proxy, rows = proxied_db
    assert _client("releases").post("/api/v1/releases/", RELEASE, format="json").status_code == 201
    author = _client("catalog")
    # Lessons are written, then the connection goes before the quiz.
    cut = _cut_after(proxy, course_services._put_lessons)
    with mock.patch.object(course_services, "_put_lessons", cut):
        response = author.put("/api/v1/courses/android-24/", COURSE, format="json")

    _assert_clean_503(response)
    assert (rows(Course), rows(Lesson)) == (0, 0)

    proxy.restore()
    assert author.put("/api/v1/courses/android-24/", COURSE, format="json").status_code == 201
    assert (rows(Course), rows(Lesson)) == (1, 2)


def test_losing_the_database_while_publishing_leaves_the_release_a_draft(catalog, proxied_db):
    proxy, rows = proxied_db
    pipeline = _client("releases")
    assert pipeline.post("/api/v1/releases/", RELEASE, format="json").status_code == 201
    cut = _cut_after(proxy, publishing.course_draft_for_release)
    with mock.patch("training.tasks.assign_release_training.apply_async") as queued:
        with mock.patch.object(publishing, "course_draft_for_release", cut):
            response = pipeline.post("/api/v1/releases/rtm-android/2.4.0/publish/")

        _assert_clean_503(response)
        assert (rows(Course), rows(Lesson), rows(AuditEvent)) == (0, 0, 0)
        assert queued.call_count == 0  # the fan-out is queued only after a commit
        proxy.restore()
        assert Release.objects.get().status == Release.Status.DRAFT
        assert pipeline.post("/api/v1/releases/rtm-android/2.4.0/publish/").status_code == 202
        assert queued.call_count == 1


@pytest.fixture
def engineer(transactional_db):
    team = TeamFactory(slug="apac-rtm")
    return EngineerFactory(team=team, region="APAC")
