"""POST /api/v1/engineers/bulk/: an HR sync's batch, each item whole or not at all."""

from datetime import date
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.actors import SYSTEM
from core.errors import InvalidInput
from tests.factories import (
    CourseFactory,
    EngineerFactory,
    ReleaseFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Assignment, AuditEvent, Engineer, TimeOff
from training.services import people, people_bulk

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


def test_a_batch_the_database_refuses_is_written_item_by_item_without_half_engineers(hr, team):
    # The set-based write refused twice (e.g. racing writers): every item goes through
    # engineer_upsert's own path, each in its own transaction.
    real_apply = people._engineer_apply

    def apply_then_fail(*, engineer, fields, created):
        real_apply(engineer=engineer, fields=fields, created=created)
        if engineer.user.username == "half":
            raise InvalidInput({"team": ["refused after writing"]})
        return False

    with (
        mock.patch.object(people_bulk, "_write", side_effect=IntegrityError("raced")) as write,
        mock.patch.object(people, "_engineer_apply", apply_then_fail),
    ):
        answer = hr.post(BULK, [hire("half", email="h@example.com"), hire("whole")], format="json")

    assert write.call_count == 2  # tried again once, then item by item
    assert answer.json()["created"] == 1
    assert answer.json()["errors"][0]["errors"] == {"team": ["refused after writing"]}
    assert not User.objects.filter(username="half").exists()
    assert Engineer.objects.filter(user__username="whole").exists()


def test_an_item_the_database_still_refuses_is_reported_not_a_500(hr, team):
    real_upsert = people_bulk._engineer_upsert

    def refuse_one(*, username, given, actor):
        if username == "bad":
            raise DataError("value too long")
        return real_upsert(username=username, given=given, actor=actor)

    with (
        mock.patch.object(people_bulk, "_write", side_effect=DataError("value too long")) as write,
        mock.patch.object(people_bulk, "_engineer_upsert", refuse_one),
    ):
        answer = hr.post(BULK, [hire("bad"), hire("good")], format="json")

    assert answer.status_code == 200
    assert write.call_count == 1  # a refused value is not retried as a whole
    assert answer.json()["created"] == 1
    assert [(e["index"], list(e["errors"])) for e in answer.json()["errors"]] == [
        (0, ["non_field_errors"])
    ]
    assert not User.objects.filter(username="bad").exists()


def test_a_username_created_meanwhile_by_another_sync_is_written_again_and_updated(hr, team):
    # Another sync made bob after this batch read: its first reads miss him, the
    # unique constraint refuses its INSERT, and the batch is written again, reading
    # bob and updating him (as engineer_upsert's loser does).
    bob, _ = people.engineer_upsert(username="bob", region="EMEA", actor=SYSTEM)
    real_lock, real_filter = Engineer.objects.select_for_update, User.objects.filter
    locks, reads = [], []

    def lock(**kwargs):
        locks.append(kwargs)
        return Engineer.objects.none() if len(locks) == 1 else real_lock(**kwargs)

    def read(**lookup):
        if "username__in" in lookup and not reads:
            reads.append(lookup)
            return real_filter(username__in=[u for u in lookup["username__in"] if u != "bob"])
        return real_filter(**lookup)

    with (
        mock.patch.object(Engineer.objects, "select_for_update", side_effect=lock),
        mock.patch.object(User.objects, "filter", side_effect=read),
    ):
        answer = hr.post(BULK, [hire("bob", tier="L2"), hire("carl")], format="json")

    assert answer.status_code == 200
    assert answer.json() == {"created": 1, "updated": 1, "errors": []}
    assert len(locks) == 2
    assert User.objects.filter(username="bob").count() == 1
    assert Engineer.objects.get(pk=bob.pk).tier == "L2"
    assert Engineer.objects.filter(user__username="carl").exists()


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
            "training.services.people_bulk.enqueue_on_commit", wraps=people_bulk.enqueue_on_commit
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


# --- set-based: the same rows as one POST each, in a bounded number of queries ------


def test_a_mixed_batch_creates_updates_and_reports_errors_in_one_call(hr, engineer, team, lead):
    body = [
        {"username": "alice", "tier": "L2", "active": False},  # update: a leaver
        hire("bob", shift={"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}),
        hire("bad", timezone="Mars/Olympus"),
        {"username": "lena", "region": "EMEA"},  # the lead becomes an engineer too
        hire("bob", tier="L3"),  # the same username again
        {"username": "newbie"},  # new, but no region
        hire("carol", time_off=[{"start": "2026-12-20", "end": "2026-12-27"}]),
    ]
    answer = hr.post(BULK, body, format="json")

    assert answer.status_code == 200
    assert (answer.json()["created"], answer.json()["updated"]) == (3, 1)
    errors = {e["index"]: e["errors"] for e in answer.json()["errors"]}
    assert list(errors) == [2, 4, 5]
    assert list(errors[2]) == ["timezone"]
    assert errors[4] == {"username": ["This username is already in this batch, at index 1."]}
    assert errors[5] == {"region": ["A new engineer needs a region."]}
    alice = Engineer.objects.select_related("user").get(pk=engineer.pk)
    assert (alice.tier, alice.active, alice.user.is_active) == ("L2", False, False)
    lena = Engineer.objects.select_related("user").get(user__username="lena")
    assert lena.user == lead and lead.has_usable_password()
    bob = Engineer.objects.select_related("user").get(user__username="bob")
    assert (bob.tier, bob.shift_days, str(bob.shift_start)) == ("L1", 0b11, "09:00:00")
    assert not bob.user.has_usable_password()
    assert list(
        Engineer.objects.get(user__username="carol").time_off.values_list("start", flat=True)
    ) == [date(2026, 12, 20)]
    assert not User.objects.filter(username__in=["bad", "newbie"]).exists()


def test_a_username_twice_in_a_batch_is_written_once_from_its_first_occurrence(hr, team):
    body = [hire("dup", tier="L2"), hire(" dup", tier="L3"), hire("dup", tier="L1")]
    answer = hr.post(BULK, body, format="json").json()

    assert (answer["created"], [e["index"] for e in answer["errors"]]) == (1, [1, 2])
    assert all(list(e["errors"]) == ["username"] for e in answer["errors"])
    assert Engineer.objects.get(user__username="dup").tier == "L2"


def test_a_bulk_leaver_signs_out_everywhere_at_once(hr, engineer, client):
    client.force_login(engineer.user)
    assert Session.objects.count() == 1

    answer = hr.post(BULK, [{"username": "alice", "active": False}], format="json")

    assert answer.json()["updated"] == 1
    assert not Session.objects.exists()


def _batch(prefix: str, size: int) -> list[dict]:
    return [
        hire(
            f"{prefix}{i}",
            email=f"{prefix}{i}@example.com",
            name=f"New Hire{i}",
            tier="L2",
            timezone="Asia/Tokyo",
            shift={"days": ["mon", "fri"], "start": "08:00", "end": "16:00"},
            time_off=[{"start": "2026-12-24", "end": "2026-12-26"}],
        )
        for i in range(size)
    ]


def _queries(client, body) -> int:
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(BULK, body, format="json")
    assert answer.status_code == 200 and not answer.json()["errors"], answer.json()
    return len(queries)


def test_the_queries_of_a_batch_do_not_grow_with_its_size(hr, team, sdk):
    release = ReleaseFactory(sdk=sdk, version="2.4.0", status="published")
    CourseFactory(slug="rtm-android-2-4", release=release)
    small, large = 3, 40
    hr.post(BULK, [], format="json")  # the token's first use of the minute is recorded

    created = [_queries(hr, _batch("s", small)), _queries(hr, _batch("l", large))]
    # Updates of every field (a new team, shift and time off) of the same engineers.
    TeamFactory(slug="emea-rtm", sdks=[sdk])
    moved = {"team": "emea-rtm", "region": "EMEA", "tier": "L3", "name": "Moved On",
             "shift": None, "time_off": []}  # fmt: skip
    changed = [
        [{**item, **moved} for item in batch] for batch in (_batch("s", small), _batch("l", large))
    ]
    updated = [_queries(hr, changed[0]), _queries(hr, changed[1])]

    assert created[0] == created[1], created
    assert updated[0] == updated[1], updated
    assert max(created + updated) <= 20
    assert Engineer.objects.filter(team__slug="emea-rtm", tier="L3").count() == small + large
    assert not TimeOff.objects.exists()


def _rows() -> dict:
    """Everything engineer_upsert writes, by username, ids left out."""
    engineers = {
        e.user.username: (
            e.user.email, e.user.first_name, e.user.last_name, e.user.is_active,
            e.user.has_usable_password(), e.team.slug if e.team else None, e.tier, e.region,
            e.timezone, e.language, e.active, e.external_id, e.shift_days, e.shift_start,
            e.shift_end, sorted((t.start, t.end, t.created_by_id) for t in e.time_off.all()),
            sorted(
                (a.course.slug, a.reason, a.status)
                for a in e.assignments.select_related("course")
            ),
        )
        for e in Engineer.objects.select_related("user", "team").prefetch_related("time_off")
    }  # fmt: skip
    audit = [(a.kind, a.details, a.token_id) for a in AuditEvent.objects.order_by("pk")]
    return {"engineers": engineers, "audit": audit}


class _Undo(Exception):
    pass


def test_a_batch_writes_the_same_rows_as_one_post_per_engineer(
    hr, engineer, outsider, team, sdk, django_capture_on_commit_callbacks
):
    release = ReleaseFactory(sdk=sdk, version="2.4.0", status="published")
    CourseFactory(slug="rtm-android-2-4", release=release)
    team.onboarding_courses.add(CourseFactory(slug="welcome"))
    EngineerFactory(user=UserFactory(username="idle"), team=team, active=False)
    UserFactory(username="person", email="p@example.com")
    body = [
        {"username": "alice", "tier": "L3", "name": "Alice  Chen-Li", "time_off": []},
        {"username": "oscar", "team": "apac-rtm", "region": "APAC",
         "shift": {"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}},
        {"username": "idle", "active": True, "email": "idle@example.com"},
        {"username": "person", "region": "AMER", "team": "apac-rtm", "language": "zh-hans"},
        hire("new1", email="n1@example.com", name="New One", timezone="Asia/Tokyo",
             time_off=[{"start": "2026-12-24", "end": "2026-12-26"},
                       {"start": "2026-12-20", "end": "2026-12-21"}]),
        hire("new2", active=False, shift=None),
        {"username": "new3", "region": "EMEA"},
    ]  # fmt: skip

    def one_by_one():
        for item in body:
            answer = hr.post("/api/v1/engineers/", item, format="json")
            assert answer.status_code in (200, 201), answer.json()
        return {"created": 4, "updated": 3, "errors": []}

    outcomes = []
    for write in (one_by_one, lambda: hr.post(BULK, body, format="json").json()):
        try:
            with transaction.atomic():
                with django_capture_on_commit_callbacks(execute=True):
                    result = write()
                outcomes.append((result, _rows()))
                raise _Undo
        except _Undo:
            pass

    (single, single_rows), (bulk, bulk_rows) = outcomes
    assert bulk == single
    assert bulk_rows == single_rows
    assert len(bulk_rows["audit"]) == 2  # a shift and a time off changed
