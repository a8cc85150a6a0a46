"""NUL characters in what a client sends: never a 500.

PostgreSQL refuses text holding NUL ("A string literal cannot contain NUL"), so on
PostgreSQL each of these was a 500 before training.middleware.NulCharacterMiddleware
(and DRF's fields, for JSON bodies); the answers are the same on SQLite.
"""

import pytest
from django.test import Client

from tests.factories import CourseFactory, ReleaseFactory

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "Null characters are not allowed."


def test_a_nul_username_in_the_engineer_path_is_a_404(token_client):
    response = token_client("people").get("/api/v1/engineers/%00/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_a_nul_calendar_token_is_a_404_for_an_anonymous_client():
    response = Client().get("/calendar/%00.ics")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/engineers/alice%00/skills/",
        "/api/v1/releases/rtm-android/2.4.0%00/",
        "/api/v1/releases/rtm-android/2.4.0%00/readiness/",
        "/api/v1/courses/intro%00/",
        "/api/v1/teams/apac%00/",
        "/api/v1/%00",
        "/calendar/abc%00def.ics",
        "/assignments/1%00/",
        "/lead/%00/",
    ],
)
def test_a_nul_in_any_captured_argument_of_any_route_is_a_404(token_client, path):
    api = token_client("people", "releases", "catalog", "assignments")

    response = api.get(path)

    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("engineer=%00", "engineer"),
        ("course=intro%00&status=assigned", "course"),
        ("page=%00", "page"),
        ("a%00=1", "a\x00"),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(token_client, query, name):
    response = token_client("assignments").get(f"/api/v1/assignments/?{query}")

    assert response.status_code == 400
    assert response.json() == {name: [NUL_MESSAGE]}


def test_a_nul_in_a_query_parameter_of_a_page_is_a_400(client, lead):
    client.force_login(lead)

    response = client.get("/team/matrix/?q=%00")

    assert response.status_code == 400


def test_a_nul_in_a_json_body_is_a_400_naming_the_field(token_client):
    catalog = token_client("catalog")

    sdk = catalog.post("/api/v1/sdks/", {"slug": "nul", "name": "a\x00b"}, format="json")
    course = catalog.put(
        "/api/v1/courses/nul/",
        {"title": "T", "lessons": [{"title": "x\x00", "body": "b"}]},
        format="json",
    )

    assert sdk.status_code == 400
    assert sdk.json() == {"name": [NUL_MESSAGE]}
    assert course.status_code == 400
    assert course.json() == {"lessons": [{"title": [NUL_MESSAGE]}]}


def test_a_nul_in_a_json_body_of_a_release_is_a_400_naming_the_field(pipeline, sdk):
    ReleaseFactory(sdk=sdk, version="2.4.0")

    response = pipeline.patch(
        "/api/v1/releases/rtm-android/2.4.0/", {"notes": "x\x00"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"notes": [NUL_MESSAGE]}


def test_a_session_cookie_holding_a_nul_is_ignored(engineer):
    CourseFactory()
    client = Client()
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"

    page = client.get("/")
    api = client.get("/api/v1/sdks/")

    assert page.status_code == 302  # to sign in, as with no session at all
    assert api.status_code in (401, 403)
