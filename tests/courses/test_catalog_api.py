from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.errors import InvalidInput
from courses.models import Sdk, Skill
from courses.services.catalog import sdk_upsert, skill_upsert
from courses.webhooks import new_webhook_secret
from tests.factories import (
    ChoiceFactory,
    CourseFactory,
    FeatureFactory,
    LessonFactory,
    QuestionFactory,
    QuizFactory,
    ReleaseFactory,
    SdkFactory,
    SkillFactory,
    UserFactory,
)


@pytest.fixture
def catalog(token_client):
    return token_client("catalog")


@pytest.fixture
def reader(token_client):
    """A valid token with another scope: may read the catalog, not write it."""
    return token_client("people")


def make_course(slug: str, release=None):
    course = CourseFactory(slug=slug, release=release)
    feature = FeatureFactory(release=release) if release else None
    LessonFactory(course=course, position=1, feature=feature)
    LessonFactory(course=course, position=2)
    question = QuestionFactory(quiz=QuizFactory(course=course), position=1, feature=feature)
    ChoiceFactory(question=question, position=1, correct=True)
    ChoiceFactory(question=question, position=2)
    return course


# --- SDKs ---------------------------------------------------------------------


def test_posting_a_new_sdk_creates_it_with_201(catalog):
    response = catalog.post(
        "/api/v1/sdks/", {"slug": "rtm-android", "name": "RTM SDK for Android"}, format="json"
    )
    assert response.status_code == 201
    assert response.json() == {
        "slug": "rtm-android",
        "name": "RTM SDK for Android",
        "webhook_url": "",
    }


def test_posting_an_existing_sdk_answers_200_with_it_unchanged(catalog, sdk):
    response = catalog.post("/api/v1/sdks/", {"slug": sdk.slug, "name": "Other"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "RTM SDK for Android"
    assert Sdk.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"slug": "not a slug", "name": "X"}, "slug"), ({"slug": "x"}, "name"), ({}, "slug")],
)
def test_posting_an_invalid_sdk_answers_400_naming_the_field(catalog, body, field):
    response = catalog.post("/api/v1/sdks/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_posting_an_sdk_needs_the_catalog_scope(reader, anon):
    body = {"slug": "rtm-web", "name": "Web"}
    assert reader.post("/api/v1/sdks/", body, format="json").status_code == 403
    assert anon.post("/api/v1/sdks/", body, format="json").status_code == 401
    assert not Sdk.objects.exists()


def test_any_token_lists_and_reads_sdks(reader, sdk):
    SdkFactory(slug="rtm-web")
    listed = reader.get("/api/v1/sdks/").json()
    assert listed["count"] == 2
    assert [s["slug"] for s in listed["results"]] == ["rtm-android", "rtm-web"]
    assert reader.get("/api/v1/sdks/rtm-android/").json()["name"] == "RTM SDK for Android"


def test_reading_sdks_without_a_token_answers_401(anon, sdk):
    assert anon.get("/api/v1/sdks/").status_code == 401
    assert anon.get("/api/v1/sdks/rtm-android/").status_code == 401


def test_reading_an_unknown_sdk_answers_404(reader, db):
    assert reader.get("/api/v1/sdks/nope/").status_code == 404


def test_an_sdk_is_created_with_its_webhook_and_the_secret_is_never_returned(catalog, reader):
    secret = new_webhook_secret()
    body = {
        "slug": "rtm-ios",
        "name": "iOS",
        "webhook_url": "https://ci.test/h",
        "webhook_secret": secret,
    }
    response = catalog.post("/api/v1/sdks/", body, format="json")
    assert response.status_code == 201
    assert response.json()["webhook_url"] == "https://ci.test/h"
    assert secret not in response.content.decode()
    assert Sdk.objects.get(slug="rtm-ios").webhook_secret == secret
    # The URL is for the catalog's writers only.
    assert "webhook_url" not in reader.get("/api/v1/sdks/rtm-ios/").json()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"webhook_url": "https://ci.test/h"}, "needs a signing secret"),
        ({"webhook_url": "https://ci.test/h", "webhook_secret": "hunter2"}, "starts with whsec_"),
        ({"webhook_url": "https://ci.test/h", "webhook_secret": "whsec_!!"}, "starts with whsec_"),
        ({"webhook_url": "https://ci.test/h", "webhook_secret": "whsec_c2hvcnQ="}, "24 to 64"),
    ],
)
def test_a_webhook_url_without_a_valid_secret_answers_400(catalog, sdk, body, message):
    response = catalog.patch("/api/v1/sdks/rtm-android/", body, format="json")
    assert response.status_code == 400
    assert message in response.json()["webhook_secret"][0]
    sdk.refresh_from_db()
    assert (sdk.webhook_url, sdk.webhook_secret) == ("", "")


def test_an_invalid_webhook_on_a_new_sdk_creates_nothing(catalog):
    body = {"slug": "rtm-ios", "name": "iOS", "webhook_url": "ftp://ci.test/h"}
    response = catalog.post("/api/v1/sdks/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"webhook_url", "webhook_secret"}
    assert not Sdk.objects.exists()


def test_patching_the_webhook_keeps_the_stored_secret_and_an_empty_url_switches_it_off(
    catalog, reader, sdk
):
    secret = new_webhook_secret()
    body = {"webhook_url": "https://ci.test/h", "webhook_secret": secret}
    assert catalog.patch("/api/v1/sdks/rtm-android/", body, format="json").status_code == 200
    moved = catalog.patch(
        "/api/v1/sdks/rtm-android/", {"webhook_url": "https://ci.test/v2"}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["webhook_url"] == "https://ci.test/v2"
    sdk.refresh_from_db()
    assert sdk.webhook_secret == secret
    assert (
        catalog.patch("/api/v1/sdks/rtm-android/", {"webhook_url": ""}, format="json").status_code
        == 200
    )
    sdk.refresh_from_db()
    assert sdk.webhook_url == ""
    assert reader.patch("/api/v1/sdks/rtm-android/", body, format="json").status_code == 403


def test_sdk_upsert_is_idempotent(db):
    first, created = sdk_upsert(slug="rtm-ios", name="iOS")
    again, created_again = sdk_upsert(slug="rtm-ios", name="iOS")
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk


def test_sdk_upsert_that_loses_a_creation_race_returns_the_winners_sdk(sdk):
    # The lookup misses the row a concurrent request just made; the insert then hits
    # the unique constraint, and the loser re-reads the winner's row.
    with mock.patch.object(Sdk.objects, "filter", side_effect=[Sdk.objects.none()]):
        found, created = sdk_upsert(slug="rtm-android", name="Other")
    assert (found.pk, found.name, created) == (sdk.pk, "RTM SDK for Android", False)


def test_sdk_upsert_rejects_a_bad_slug(db):
    with pytest.raises(InvalidInput) as caught:
        sdk_upsert(slug="a/b", name="x")
    assert list(caught.value.detail) == ["slug"]


# --- skills -------------------------------------------------------------------


def test_posting_a_new_skill_creates_it_with_201_and_again_200(catalog):
    body = {"slug": "message-ordering", "name": "Message ordering"}
    assert catalog.post("/api/v1/skills/", body, format="json").status_code == 201
    again = catalog.post("/api/v1/skills/", body, format="json")
    assert again.status_code == 200
    assert again.json() == {
        "slug": "message-ordering",
        "name": "Message ordering",
        "description": "",
    }
    assert Skill.objects.count() == 1


def test_posting_an_invalid_skill_answers_400_naming_the_field(catalog):
    response = catalog.post("/api/v1/skills/", {"slug": "ok", "name": ""}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_posting_a_skill_needs_the_catalog_scope(reader, anon):
    body = {"slug": "push", "name": "Push"}
    assert reader.post("/api/v1/skills/", body, format="json").status_code == 403
    assert anon.post("/api/v1/skills/", body, format="json").status_code == 401


def test_any_token_lists_and_reads_skills(reader, db):
    SkillFactory(slug="push", name="Push")
    assert reader.get("/api/v1/skills/").json()["results"][0]["slug"] == "push"
    assert reader.get("/api/v1/skills/push/").json()["name"] == "Push"
    assert reader.get("/api/v1/skills/nope/").status_code == 404


def test_skill_upsert_is_idempotent(db):
    skill, created = skill_upsert(slug="push", name="Push")
    again, created_again = skill_upsert(slug="push", name="Push notifications")
    assert (created, created_again, again.pk, again.name) == (True, False, skill.pk, "Push")


# --- courses ------------------------------------------------------------------


def test_reading_a_course_with_the_catalog_scope_shows_the_answer_key(catalog, sdk):
    release = ReleaseFactory(sdk=sdk, version="2.4.0")
    make_course("rtm-2-4", release)
    body = catalog.get("/api/v1/courses/rtm-2-4/").json()
    assert body["release"] == {"sdk": "rtm-android", "version": "2.4.0"}
    assert len(body["lessons"]) == 2
    question = body["quiz"]["questions"][0]
    assert question["explanation"] == "Because the docs say so."
    assert [choice["correct"] for choice in question["choices"]] == [True, False]


def test_reading_a_course_without_the_catalog_scope_hides_the_answer_key(reader, db):
    make_course("welcome")
    question = reader.get("/api/v1/courses/welcome/").json()["quiz"]["questions"][0]
    assert "explanation" not in question
    assert all(set(choice) == {"text"} for choice in question["choices"])


def test_a_staff_session_sees_the_answer_key_and_another_session_does_not(staff, db):
    make_course("welcome")
    client = APIClient()
    client.force_authenticate(staff)
    question = client.get("/api/v1/courses/welcome/").json()["quiz"]["questions"][0]
    assert "correct" in question["choices"][0]
    client.force_authenticate(UserFactory(username="plain"))
    question = client.get("/api/v1/courses/welcome/").json()["quiz"]["questions"][0]
    assert "correct" not in question["choices"][0]


def test_a_course_without_a_quiz_shows_quiz_null(reader, db):
    LessonFactory(course=CourseFactory(slug="intro"), position=1)
    body = reader.get("/api/v1/courses/intro/").json()
    assert (body["quiz"], body["release"]) == (None, None)


def test_reading_an_unknown_course_answers_404(reader, db):
    assert reader.get("/api/v1/courses/nope/").status_code == 404


def test_reading_courses_without_a_token_answers_401(anon, db):
    assert anon.get("/api/v1/courses/").status_code == 401


def test_listing_courses_filters_by_release(reader, sdk):
    make_course("r24", ReleaseFactory(sdk=sdk, version="2.4.0"))
    make_course("r25", ReleaseFactory(sdk=sdk, version="2.5.0"))
    make_course("web", ReleaseFactory(sdk=SdkFactory(slug="rtm-web"), version="2.4.0"))
    make_course("welcome")

    def slugs(query: str) -> list[str]:
        return [c["slug"] for c in reader.get(f"/api/v1/courses/{query}").json()["results"]]

    assert slugs("") == ["r24", "r25", "web", "welcome"]
    assert slugs("?release_sdk=rtm-android") == ["r24", "r25"]
    assert slugs("?release_sdk=rtm-android&release_version=v2.4.0") == ["r24"]
    assert slugs("?release_version=2.4.0") == ["r24", "web"]


def test_listing_courses_with_a_bad_version_answers_400_naming_it(reader, db):
    response = reader.get("/api/v1/courses/?release_version=two")
    assert response.status_code == 400
    assert list(response.json()) == ["release_version"]


def test_listing_courses_takes_the_same_queries_for_many_courses(catalog, sdk):
    make_course("first", ReleaseFactory(sdk=sdk))
    catalog.get("/api/v1/courses/")  # warm up the token's last-used write
    with CaptureQueriesContext(connection) as one:
        assert catalog.get("/api/v1/courses/").json()["count"] == 1
    for n in range(5):
        make_course(f"more-{n}", ReleaseFactory(sdk=sdk) if n % 2 else None)
    with CaptureQueriesContext(connection) as six:
        assert catalog.get("/api/v1/courses/").json()["count"] == 6
    assert len(six) == len(one)


@pytest.mark.parametrize("page_size", ["0", "-1", "ten", "1.5", "\u0665", "null"])
def test_a_page_size_that_is_not_a_whole_number_of_one_or_more_is_a_400(token_client, page_size):
    response = token_client("catalog").get("/api/v1/sdks/", {"page_size": page_size})

    assert response.status_code == 400
    assert list(response.json()) == ["page_size"]


def test_a_page_size_above_500_is_read_as_500_not_refused(token_client):
    response = token_client("catalog").get("/api/v1/sdks/", {"page_size": "100000"})

    assert response.status_code == 200
