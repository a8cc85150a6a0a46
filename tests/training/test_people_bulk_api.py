"""POST /api/v1/engineers/bulk/: an HR sync's batch, each item whole or not at all."""

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import InvalidInput
from tests.factories import CourseFactory, ReleaseFactory
from training.models import Assignment, Engineer
from training.services import people

User = get_user_model()
BULK = "/api/v1/engineers/bulk/"


@pytest.fixture
def hr(token_client):
    return token_client("people")


def hire(username: str, **fields) -> dict:
    return {"username": username, "team": "apac-rtm", "region": "APAC", **fields}


def test_a_batch_creates_and_updates_engineers(hr, engineer, team):
    body = [
        hire("bob", email="bob@example.com", name="Bob Li", tier="L2", timezone="Asia/Tokyo"),
        {"username": "alice", "tier": "L3"},
        hire("carol", language="zh-hans"),
    ]
    answer = hr.post(BULK, body, format="json")

    assert answer.status_code == 200
    assert answer.json() == {"created": 2, "updated": 1, "errors": []}
    bob = Engineer.objects.select_related("user", "team").get(user__username="bob")
    assert (bob.user.email, bob.user.get_full_name(), bob.tier) == (
        "bob@example.com",
        "Bob Li",
        "L2",
    )
    assert (bob.team, bob.timezone) == (team, "Asia/Tokyo")
    assert Engineer.objects.get(pk=engineer.pk).tier == "L3"
    assert Engineer.objects.get(user__username="carol").language == "zh-hans"


def test_invalid_items_are_reported_by_index_and_field_and_the_rest_is_written(hr, team):
    body = [
        hire("ok1"),
        hire("badtier", tier="L9"),
        hire("noteam", team="nope"),
        {"username": "noregion", "team": "apac-rtm"},
        "not an object",
        hire("ok1", tier="L2"),
        {"username": "bad name!", "region": "APAC"},
        hire("ok2"),
    ]
    answer = hr.post(BULK, body, format="json")

    assert answer.status_code == 200
    result = answer.json()
    assert (result["created"], result["updated"]) == (2, 0)
    errors = {item["index"]: (item["username"], set(item["errors"])) for item in result["errors"]}
    assert errors == {
        1: ("badtier", {"tier"}),
        2: ("noteam", {"team"}),
        3: ("noregion", {"region"}),
        4: ("", {"non_field_errors"}),
        5: ("ok1", {"username"}),
        6: ("bad name!", {"username"}),
    }
    assert "index 0" in result["errors"][4]["errors"]["username"][0]
    assert set(User.objects.values_list("username", flat=True)) >= {"ok1", "ok2"}
    for name in ("badtier", "noteam", "noregion", "bad name!"):
        assert not User.objects.filter(username=name).exists()
    assert Engineer.objects.get(user__username="ok1").tier == "L1"  # not the duplicate's


def test_an_item_failing_midway_leaves_no_half_written_engineer(hr, team):
    real_apply = people._engineer_apply

    def apply_then_fail(*, engineer, fields, created):
        real_apply(engineer=engineer, fields=fields, created=created)
        if engineer.user.username == "half":
            raise InvalidInput({"team": ["refused after writing"]})
        return False

    with mock.patch.object(people, "_engineer_apply", apply_then_fail):
        answer = hr.post(BULK, [hire("half", email="h@example.com"), hire("whole")], format="json")

    assert answer.json()["created"] == 1
    assert answer.json()["errors"][0]["errors"] == {"team": ["refused after writing"]}
    assert not User.objects.filter(username="half").exists()
    assert Engineer.objects.filter(user__username="whole").exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"username": "alice"}, "application/json"),
        ("[" * 100 + "]" * 100, "application/json"),
        ("[{]", "application/json"),
        ("alice", "text/plain"),
    ],
)
def test_a_body_that_is_not_a_list_of_objects_is_a_400(hr, team, body, content_type):
    import json

    data = body if isinstance(body, str) else json.dumps(body)
    answer = hr.generic("POST", BULK, data, content_type=content_type)
    assert answer.status_code in (400, 415)
    assert not Engineer.objects.exists()


def test_more_than_a_thousand_items_is_a_400_and_writes_nothing(hr, team):
    answer = hr.post(BULK, [hire(f"e{i}") for i in range(1001)], format="json")
    assert answer.status_code == 400
    assert "1000" in answer.json()["non_field_errors"][0]
    assert not Engineer.objects.exists()


def test_an_empty_batch_writes_nothing(hr, db):
    assert hr.post(BULK, [], format="json").json() == {"created": 0, "updated": 0, "errors": []}


def test_new_hires_get_their_backlog_from_one_task_per_batch(
    hr, team, sdk, django_capture_on_commit_callbacks
):
    release = ReleaseFactory(sdk=sdk, version="2.4.0", status="published")
    CourseFactory(slug="rtm-android-2-4", release=release)
    team.onboarding_courses.add(CourseFactory(slug="welcome"))
    body = [hire(f"new{i}") for i in range(20)] + [hire("gone", active=False)]

    with (
        mock.patch(
            "training.services.people.enqueue_on_commit", wraps=people.enqueue_on_commit
        ) as q,
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        assert hr.post(BULK, body, format="json").json()["created"] == 21

    backlog = [c for c in q.call_args_list if c.args[0].endswith("assign_engineers_backlog")]
    assert len(backlog) == 1 and len(backlog[0].args[1]) == 20
    assigned = Assignment.objects.filter(engineer__user__username__startswith="new")
    assert assigned.filter(reason="onboarding").count() == 20
    assert assigned.filter(reason="release").count() == 20
    assert not Assignment.objects.filter(engineer__user__username="gone").exists()
    # The backlog's inserts are per batch, not per engineer.
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    assert sum('"training_assignment"' in sql for sql in inserts) <= 4


def test_bulk_needs_the_people_scope(token_client, anon, team):
    body = [hire("bob")]
    assert token_client("catalog").post(BULK, body, format="json").status_code == 403
    assert anon.post(BULK, body, format="json").status_code == 401
    assert not Engineer.objects.exists()
