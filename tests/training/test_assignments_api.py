"""API v1 assignments: the filtered list, who sees what, and manual assignment."""

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    ReleaseFactory,
    SdkFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Assignment, AuditEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/assignments/"


@pytest.fixture
def reader(token_client):
    return token_client("assignments")


@pytest.fixture
def release(sdk):
    return ReleaseFactory(sdk=sdk, version="2.4.0", status=Release.Status.PUBLISHED)


@pytest.fixture
def course(release):
    return CourseFactory(slug="rtm-android-2-4-0", release=release)


@pytest.fixture
def onboarding():
    return CourseFactory(slug="onboarding")


@pytest.fixture
def bob(team):
    return EngineerFactory(user__username="bob", team=team, region="EMEA")


def usernames(response) -> list[str]:
    assert response.status_code == 200, response.data
    return sorted(item["engineer"] for item in response.json()["results"])


def test_the_list_answers_the_contract_item(reader, engineer, course):
    assignment = AssignmentFactory(
        engineer=engineer, course=course, reason=Assignment.Reason.RELEASE
    )

    response = reader.get(URL)

    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["next"], data["previous"]) == (1, None, None)
    assert data["results"] == [
        {
            "id": assignment.pk,
            "engineer": "alice",
            "course": "rtm-android-2-4-0",
            "release": {"sdk": "rtm-android", "version": "2.4.0"},
            "reason": "release",
            "mandatory": True,
            "status": "assigned",
            "overdue": False,
            "assigned_at": assignment.assigned_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "due_at": assignment.due_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "completed_at": None,
            "assigned_by": "system",
            "note": "",
            "attempts_used": 0,
            "attempts_allowed": None,
            "extra_attempts": 0,
            "locked_out": False,
            "extended": False,
        }
    ]


def test_an_onboarding_assignment_has_no_release(reader, engineer, onboarding):
    AssignmentFactory(engineer=engineer, course=onboarding, reason=Assignment.Reason.ONBOARDING)

    item = reader.get(URL).json()["results"][0]

    assert (item["release"], item["reason"]) == (None, "onboarding")


@pytest.fixture
def several(engineer, bob, outsider, course, onboarding):
    now = timezone.now()
    web_release = ReleaseFactory(sdk=SdkFactory(slug="rtm-web"), version="2.4.0")
    AssignmentFactory(engineer=engineer, course=course, reason=Assignment.Reason.RELEASE)
    AssignmentFactory(
        engineer=engineer,
        course=onboarding,
        status=Assignment.Status.COMPLETE,
        completed_at=now,
        assigned_at=now - timedelta(days=10),
        due_at=now - timedelta(days=1),
    )
    AssignmentFactory(
        engineer=bob,
        course=course,
        status=Assignment.Status.IN_PROGRESS,
        assigned_at=now - timedelta(days=10),
        due_at=now - timedelta(hours=1),
    )
    AssignmentFactory(engineer=outsider, course=CourseFactory(release=web_release))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["alice", "alice", "bob", "oscar"]),
        ({"engineer": "alice"}, ["alice", "alice"]),
        ({"course": "rtm-android-2-4-0"}, ["alice", "bob"]),
        ({"sdk": "rtm-android"}, ["alice", "bob"]),
        ({"version": "2.4.0"}, ["alice", "bob", "oscar"]),
        ({"sdk": "rtm-web", "version": "v2.4.0"}, ["oscar"]),
        ({"status": "complete"}, ["alice"]),
        ({"status": "in_progress"}, ["bob"]),
        ({"overdue": "true"}, ["bob"]),
        ({"overdue": "false"}, ["alice", "alice", "oscar"]),
        ({"engineer": "nobody"}, []),
    ],
)
def test_the_list_filters(reader, several, query, expected):
    assert usernames(reader.get(URL, query)) == expected


def test_overdue_is_true_only_past_due_and_not_complete(reader, several):
    items = reader.get(URL, {"engineer": "bob"}).json()["results"]

    assert [item["overdue"] for item in items] == [True]
    done = reader.get(URL, {"status": "complete"}).json()["results"]
    assert [item["overdue"] for item in done] == [False]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "late"}, "status"),
        ({"version": "2.4"}, "version"),
        ({"overdue": "x"}, "overdue"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(reader, query, field):
    response = reader.get(URL, query)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_listing_takes_the_same_number_of_queries_for_many(
    reader, team, course, django_assert_max_num_queries
):
    for _ in range(30):
        AssignmentFactory(engineer=EngineerFactory(team=team), course=course)

    # auth (token, last-used) + count + page
    with django_assert_max_num_queries(4):
        response = reader.get(URL, {"page_size": 100})

    assert len(response.json()["results"]) == 30


def test_an_engineer_signed_in_sees_only_their_own_assignments(client, engineer, several):
    client.force_login(engineer.user)

    assert usernames(client.get(URL)) == ["alice", "alice"]
    assert usernames(client.get(URL, {"engineer": "bob"})) == []


def test_a_lead_sees_the_assignments_of_their_teams_engineers(client, lead, team, several):
    TeamFactory(slug="co-led", leads=[lead, UserFactory(username="colead")])
    team.leads.add(UserFactory(username="second-lead"))
    client.force_login(lead)

    assert usernames(client.get(URL)) == ["alice", "alice", "bob"]


def test_staff_see_every_assignment(client, staff, several):
    client.force_login(staff)

    assert usernames(client.get(URL)) == ["alice", "alice", "bob", "oscar"]


def test_a_bearer_without_the_scope_is_refused(token_client, anon, several):
    assert anon.get(URL).status_code == 401
    assert anon.post(URL, {}, format="json").status_code == 401
    assert token_client("releases").get(URL).status_code == 403
    assert token_client("releases").post(URL, {}, format="json").status_code == 403


def test_a_person_who_is_not_staff_cannot_assign_through_the_api(client, lead, onboarding):
    client.force_login(lead)

    response = client.post(
        URL, {"course": "onboarding", "engineers": ["alice"]}, content_type="application/json"
    )

    assert response.status_code == 403
    assert not Assignment.objects.exists()


# --- manual assignment ----------------------------------------------------------------


def future(days: int = 7) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def test_assigning_to_engineers_and_a_team_creates_each_once(
    reader, team, engineer, bob, outsider, onboarding
):
    EngineerFactory(user__username="inez", team=team, active=False)
    AssignmentFactory(engineer=bob, course=onboarding)
    body = {"course": "onboarding", "engineers": ["oscar", "alice"], "team": "apac-rtm"}

    response = reader.post(URL, {**body, "due_at": future()}, format="json")
    again = reader.post(URL, {**body, "due_at": future()}, format="json")

    assert response.status_code == 201
    assert response.json() == {"created": 2, "existing": 1}
    assert again.json() == {"created": 0, "existing": 3}
    assigned = Assignment.objects.filter(course=onboarding)
    assert sorted(assigned.values_list("engineer__user__username", flat=True)) == [
        "alice",
        "bob",
        "oscar",
    ]
    alice = assigned.get(engineer=engineer)
    assert (alice.reason, alice.release) == (Assignment.Reason.LEAD, None)
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_MANUAL).first()
    assert event.details["course"] == "onboarding"


def test_a_release_course_assigned_by_hand_carries_its_release(reader, engineer, course):
    response = reader.post(
        URL, {"course": course.slug, "engineers": ["alice"], "due_at": future()}, format="json"
    )

    assert response.status_code == 201
    assert Assignment.objects.get().release == course.release


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"course": "nope"}, "course", "Unknown course: nope"),
        ({"engineers": ["alice", "ghost"]}, "engineers", "ghost"),
        ({"engineers": ["inez"]}, "engineers", "inez"),
        ({"engineers": "alice"}, "engineers", "list"),
        ({"team": "nope"}, "team", "Unknown team: nope"),
        ({"engineers": []}, "engineers", "Name engineers"),
        ({"due_at": "2020-01-01T00:00:00Z"}, "due_at", "future"),
        ({"due_at": "2030-01-01T00:00:00"}, "due_at", "offset"),
        ({"due_at": None}, "due_at", "null"),
    ],
)
def test_invalid_manual_assignments_are_a_400_naming_the_field(
    reader, team, engineer, onboarding, changes, field, says
):
    EngineerFactory(user__username="inez", team=team, active=False)
    body = {"course": "onboarding", "engineers": ["alice"], "due_at": future(), **changes}

    response = reader.post(URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert says in str(response.json()[field])
    assert not Assignment.objects.exists()
