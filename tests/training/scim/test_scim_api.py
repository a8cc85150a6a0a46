"""SCIM 2.0 at /scim/v2/: what identity providers send (Entra ID's capitalised ops
and string booleans, path-less replaces, member adds and removes), what a leaver's
deactivation does, and SCIM errors, never a 500, on hostile input."""

import json

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import EngineerFactory, TeamFactory, UserFactory
from training.models import Engineer

pytestmark = pytest.mark.django_db

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
EXT = "urn:preflight:params:scim:schemas:extension:2.0:Engineer"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def scim(token_client):
    client = token_client("scim")

    def call(method: str, path: str, body=None, **extra):
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        return getattr(client, method)(
            "/scim/v2" + path, data=data, content_type="application/scim+json", **extra
        )

    return call


def new_user(scim, username="bjensen@example.com", **attributes):
    body = {
        "schemas": [USER, EXT],
        "userName": username,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
        "timezone": "Asia/Shanghai",
        "locale": "zh-CN",
        "externalId": "00u1",
        EXT: {"team": "android"},
        **attributes,
    }
    response = scim("post", "/Users", body)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def android(db):
    return TeamFactory(slug="android", name="Android")


def test_a_posted_user_becomes_an_engineer_of_the_team(scim, android):
    created = new_user(scim)
    engineer = Engineer.objects.select_related("user").get(user_id=int(created["id"]))
    assert engineer.team == android
    assert (engineer.timezone, engineer.language, engineer.region) == (
        "Asia/Shanghai",
        "zh-hans",
        "APAC",
    )
    assert engineer.user.get_full_name() == "Barbara Jensen"
    assert engineer.external_id == "00u1"
    assert created["meta"]["location"].endswith(f"/scim/v2/Users/{created['id']}")
    assert created["emails"] == [{"value": "bjensen@example.com", "type": "work", "primary": True}]


def test_posting_the_same_user_twice_is_a_uniqueness_error(scim, android):
    new_user(scim)
    response = scim("post", "/Users", {"schemas": [USER], "userName": "BJENSEN@example.com"})
    assert response.status_code == 409
    assert response.json()["schemas"] == [ERROR]
    assert response.json()["scimType"] == "uniqueness"


def test_filters_by_username_ignoring_case_and_by_external_id(scim, android):
    new_user(scim)
    new_user(scim, username="other@example.com", externalId="00u2")
    found = scim("get", '/Users?filter=userName eq "BJensen@example.com"').json()
    assert [r["userName"] for r in found["Resources"]] == ["bjensen@example.com"]
    found = scim("get", '/Users?filter=externalId eq "00u2"').json()
    assert [r["userName"] for r in found["Resources"]] == ["other@example.com"]
    assert scim("get", '/Users?filter=userName eq "nobody"').json()["totalResults"] == 0


def test_pages_with_start_index_and_count(scim, android):
    for n in range(5):
        new_user(scim, username=f"user{n}", externalId=f"e{n}")
    page = scim("get", "/Users?startIndex=2&count=2").json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [r["userName"] for r in page["Resources"]] == ["user1", "user2"]


def test_walking_every_page_lists_each_user_once_in_order_in_flat_queries(scim, android):
    engineers = [
        EngineerFactory(user=UserFactory(username=f"walk{n:02d}"), team=android if n % 2 else None)
        for n in range(23)
    ]
    Engineer.objects.filter(pk=engineers[5].pk).update(deprovisioned_at=timezone.now())
    listed, queries = [], set()
    for start in range(1, 30, 5):
        with CaptureQueriesContext(connection) as captured:
            page = scim("get", f"/Users?startIndex={start}&count=5").json()
        queries.add(len(captured))
        assert page["totalResults"] == 22
        listed += [r["userName"] for r in page["Resources"]]
    assert listed == [f"walk{n:02d}" for n in range(23) if n != 5]
    assert max(queries) <= 4  # token, count, the page's keys, its rows


def test_a_filtered_list_pages_too(scim, android):
    for n in range(6):
        EngineerFactory(user=UserFactory(username=f"f{n}"), team=android)
    page = scim("get", '/Users?filter=userName sw "f" and active eq true&startIndex=3&count=2')
    assert page.status_code == 200, page.content
    assert [r["userName"] for r in page.json()["Resources"]] == ["f2", "f3"]
    assert page.json()["totalResults"] == 6


def test_entra_id_deactivation_ends_the_engineer_at_once(scim, android):
    created = new_user(scim)
    engineer = Engineer.objects.get(user_id=int(created["id"]))
    browser = Client()
    browser.force_login(engineer.user)
    assert browser.get("/").status_code == 200
    response = scim(
        "patch",
        f"/Users/{created['id']}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    engineer.refresh_from_db()
    engineer.user.refresh_from_db()
    assert (engineer.active, engineer.user.is_active) == (False, False)
    assert not Session.objects.exists()
    assert browser.get("/").status_code == 302  # signed out


def test_a_path_less_replace_with_a_dict(scim, android):
    TeamFactory(slug="ios")
    created = new_user(scim)
    response = scim(
        "patch",
        f"/Users/{created['id']}",
        {
            "schemas": [PATCH],
            "Operations": [
                {
                    "op": "Replace",
                    "value": {
                        "name.familyName": "Smith",
                        "displayName": "Babs",
                        f"{EXT}:team": "ios",
                        "timezone": "Europe/Paris",
                    },
                }
            ],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["displayName"], body["name"]["familyName"], body[EXT]["team"]) == (
        "Babs",
        "Smith",
        "ios",
    )
    engineer = Engineer.objects.select_related("team").get(user_id=int(created["id"]))
    assert (engineer.team.slug, engineer.timezone) == ("ios", "Europe/Paris")


def test_an_unknown_team_or_time_zone_is_an_invalid_value(scim, android):
    created = new_user(scim)
    for operation in (
        {"op": "replace", "path": f"{EXT}:team", "value": "nope"},
        {"op": "replace", "path": "timezone", "value": "Mars/Olympus"},
    ):
        response = scim(
            "patch", f"/Users/{created['id']}", {"schemas": [PATCH], "Operations": [operation]}
        )
        assert response.status_code == 400
        assert response.json()["scimType"] == "invalidValue"


def test_delete_deprovisions_and_a_rehire_comes_back(scim, android):
    created = new_user(scim)
    assert scim("delete", f"/Users/{created['id']}").status_code == 204
    assert scim("get", f"/Users/{created['id']}").status_code == 404
    engineer = Engineer.objects.get(user_id=int(created["id"]))
    assert not engineer.active and engineer.deprovisioned_at is not None
    again = new_user(scim)
    assert again["id"] == created["id"] and again["active"] is True


def test_groups_are_teams_and_members_move(scim, android):
    created = new_user(scim)
    response = scim(
        "post",
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "iOS support"},
    )
    assert response.status_code == 201, response.content
    group = response.json()
    add = {
        "schemas": [PATCH],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": created["id"]}]}],
    }
    assert scim("patch", f"/Groups/{group['id']}", add).status_code == 200
    engineer = Engineer.objects.select_related("team").get(user_id=int(created["id"]))
    assert engineer.team.name == "iOS support"
    remove = {
        "schemas": [PATCH],
        "Operations": [{"op": "Remove", "path": f'members[value eq "{created["id"]}"]'}],
    }
    assert scim("patch", f"/Groups/{group['id']}", remove).status_code == 200
    engineer.refresh_from_db()
    assert engineer.team is None
    found = scim("get", '/Groups?filter=displayName eq "iOS support"').json()
    assert found["totalResults"] == 1


def test_discovery_documents(scim, android):
    config = scim("get", "/ServiceProviderConfig").json()
    assert config["patch"]["supported"] is True and config["bulk"]["supported"] is False
    types = {r["id"] for r in scim("get", "/ResourceTypes").json()["Resources"]}
    assert types == {"User", "Group"}
    schemas = {r["id"]: r for r in scim("get", "/Schemas").json()["Resources"]}
    assert EXT in schemas
    team = next(a for a in schemas[EXT]["attributes"] if a["name"] == "team")
    assert team["canonicalValues"] == ["android"]


def test_a_token_needs_the_scim_scope(token_client, anon, android):
    response = anon.get("/scim/v2/Users")
    assert response.status_code == 401 and response.json()["schemas"] == [ERROR]
    response = token_client("people").get("/scim/v2/Users")
    assert response.status_code == 403 and response.json()["schemas"] == [ERROR]


def test_a_start_past_any_end_is_an_empty_page(scim, android):
    page = scim("get", "/Users?startIndex=99999999999999999999999&count=-5").json()
    assert (page["itemsPerPage"], page["Resources"]) == (0, [])


def test_a_nul_byte_is_refused_before_scim_reads_it(scim, android):
    # training.middleware.NulCharacterMiddleware answers first, for every route.
    assert scim("get", '/Users?filter=userName eq "a\x00b"').status_code == 400


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("get", "/Users?filter=userName eq", None),
        ("get", "/Users?filter=" + "(" * 500, None),
        ("get", "/Users?count=abc", None),
        ("get", "/Users/99999999999999999999999999", None),
        ("get", "/Users/abc", None),
        ("post", "/Users", "not json"),
        ("post", "/Users", "[" * 10_000),
        ("post", "/Users", [1, 2]),
        ("post", "/Users", {"schemas": [USER], "userName": ["x"]}),
        ("post", "/Users", {"schemas": [USER], "userName": "a" * 500}),
        ("post", "/Users", {"schemas": [USER], "userName": "x", "timezone": 5}),
        ("post", "/Users", {"schemas": [USER], "userName": "x", "active": "perhaps"}),
        ("post", "/Users", {"schemas": [USER], "userName": "x", "externalId": "e" * 300}),
        ("post", "/Groups", {"schemas": [USER], "displayName": "x", "members": [{"value": "a"}]}),
        ("post", "/Groups", {"displayName": "x" * 500}),
        ("patch", "/Users/1", {"schemas": [PATCH], "Operations": [{"op": "explode"}]}),
        ("put", "/Schemas", {}),
    ],
)
def test_hostile_input_is_a_scim_error_not_a_500(scim, android, method, path, body):
    EngineerFactory(user=UserFactory(id=1, username="first"), team=android)
    response = scim(method, path, body)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["schemas"] == [ERROR]


def test_the_list_fast_path_answers_what_scim2_models_would(scim, android):
    from scim2_models import Context

    from training.api.scim.views import User, user_document

    created = new_user(scim)
    scim(
        "patch",
        f"/Users/{created['id']}",
        {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"displayName": "B"}}]},
    )
    EngineerFactory(user=UserFactory(username="plain", email=""), team=None)
    EngineerFactory(user=UserFactory(username="named", first_name="Ann", last_name=""))
    for engineer in Engineer.objects.select_related("user", "team"):
        document = user_document(engineer, "http://testserver/scim/v2")
        dumped = User.model_validate(document).model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
        assert document == dumped
    listed = scim("get", "/Users").json()["Resources"]
    assert listed[0]["userName"] == "bjensen@example.com"
    assert listed[0]["displayName"] == "B"


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the index is PostgreSQL's (migration 0023)"
)
def test_a_case_insensitive_username_lookup_reads_the_index_not_the_table(android):
    from training.selectors.scim import scim_engineers

    query, params = (
        scim_engineers().filter(user__username__iexact="BJensen").query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test table is tiny
        cursor.execute("EXPLAIN " + query, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "auth_user_username_upper_idx" in plan, plan
