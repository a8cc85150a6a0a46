"""API v1: who assigned what and why, attempts used and allowed, locked out; a
lead's grant of attempts (POST …/{id}/attempts/) and extension (PATCH …/{id}/)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import AssignmentFactory, CourseFactory, EngineerFactory, UserFactory
from tests.training.quiz_course import build_quiz_course
from tests.training.test_attempts import answers_for, first_prompt
from training.models import Assignment, AuditEvent, Engineer
from training.services.attempts import attempt_start, attempt_submit

pytestmark = pytest.mark.django_db

URL = "/api/v1/assignments/"


@pytest.fixture
def writer(token_client):
    return token_client("assignments")


@pytest.fixture
def qc(engineer):
    return build_quiz_course(engineer=engineer, max_attempts=1)


def fail(engineer: Engineer, qc) -> None:
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))


def later(days: int = 10) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def item(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


# --- the list item ------------------------------------------------------------------


def test_an_item_says_who_assigned_it_with_the_note(writer, client, lead, engineer, qc):
    onboarding = CourseFactory(slug="onboarding")
    response = writer.post(
        URL,
        {"course": "onboarding", "engineers": ["alice"], "due_at": later(), "note": "Read it!"},
        format="json",
    )
    assert response.status_code == 201
    by_lead = AssignmentFactory(engineer=engineer, course=CourseFactory(), assigned_by=lead)

    items = {i["id"]: i for i in item(writer.get(URL))["results"]}

    mine = Assignment.objects.get(course=onboarding)
    assert (items[mine.pk]["assigned_by"], items[mine.pk]["note"]) == (
        "test-assignments",
        "Read it!",
    )
    assert items[by_lead.pk]["assigned_by"] == "lena"
    assert items[qc.assignment.pk]["assigned_by"] == "system"


def test_an_item_counts_attempts_and_says_when_the_engineer_is_locked_out(writer, engineer, qc):
    assert item(writer.get(f"{URL}{qc.assignment.pk}/"))["locked_out"] is False
    fail(engineer, qc)

    data = item(writer.get(f"{URL}{qc.assignment.pk}/"))

    assert (data["attempts_used"], data["attempts_allowed"], data["locked_out"]) == (1, 1, True)


def test_listing_with_attempt_figures_takes_the_same_queries_for_few_and_many(
    writer, team, qc, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for _ in range(n):
            AssignmentFactory(
                engineer=EngineerFactory(team=team),
                course=qc.course,
                assigned_by=UserFactory(),
                note="why",
            )

    add(2)
    with django_assert_max_num_queries(4):
        assert item(writer.get(URL, {"page_size": 100}))["count"] == 3
    add(30)
    with django_assert_max_num_queries(4):
        assert item(writer.get(URL, {"page_size": 100}))["count"] == 33


# --- granting attempts ---------------------------------------------------------------


def test_a_token_grants_an_attempt_and_gets_the_assignment(writer, engineer, qc):
    fail(engineer, qc)

    data = item(
        writer.post(
            f"{URL}{qc.assignment.pk}/attempts/",
            {"extra": 1, "reason": "Network outage during the quiz"},
            format="json",
        )
    )

    assert (data["id"], data["attempts_allowed"], data["locked_out"]) == (
        qc.assignment.pk,
        2,
        False,
    )
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ASSIGNMENT_ATTEMPTS_GRANTED)
    assert event.token is not None
    assert event.details["by"] == "token:test-assignments"
    assert attempt_start(engineer=engineer, quiz=qc.quiz).number == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"extra": 0, "reason": "x"}, "extra"),
        ({"extra": 11, "reason": "x"}, "extra"),
        ({"extra": "many", "reason": "x"}, "extra"),
        ({"extra": 1}, "reason"),
        ({"extra": 1, "reason": "   "}, "reason"),
    ],
)
def test_a_bad_grant_is_a_400_naming_the_field(writer, qc, body, field):
    response = writer.post(f"{URL}{qc.assignment.pk}/attempts/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not AuditEvent.objects.exists()


def test_a_grant_on_a_complete_assignment_is_a_409(writer, qc):
    Assignment.objects.filter(pk=qc.assignment.pk).update(
        status=Assignment.Status.COMPLETE, completed_at=timezone.now()
    )
    response = writer.post(
        f"{URL}{qc.assignment.pk}/attempts/", {"extra": 1, "reason": "x"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["status"] == "complete"


def test_a_lead_grants_an_attempt_to_an_engineer_of_their_team(client, lead, qc):
    client.force_login(lead)

    response = client.post(
        f"{URL}{qc.assignment.pk}/attempts/",
        {"extra": 2, "reason": "x"},
        content_type="application/json",
    )

    assert item(response)["extra_attempts"] == 2
    assert AuditEvent.objects.get().actor == lead


def test_a_lead_gets_a_404_for_another_teams_assignment(client, lead, team, outsider):
    other = AssignmentFactory(engineer=outsider)
    client.force_login(lead)

    grant = client.post(
        f"{URL}{other.pk}/attempts/", {"extra": 1, "reason": "x"}, content_type="application/json"
    )
    extend = client.patch(
        f"{URL}{other.pk}/", {"due_at": later(), "reason": "x"}, content_type="application/json"
    )
    missing = client.post(
        f"{URL}999999/attempts/", {"extra": 1, "reason": "x"}, content_type="application/json"
    )

    assert (grant.status_code, extend.status_code, missing.status_code) == (404, 404, 404)
    assert not AuditEvent.objects.exists()


def test_a_lead_cannot_grant_themselves_an_attempt(client, lead, team, qc):
    own = AssignmentFactory(engineer=EngineerFactory(user=lead, team=team))
    client.force_login(lead)

    response = client.post(
        f"{URL}{own.pk}/attempts/", {"extra": 1, "reason": "x"}, content_type="application/json"
    )

    assert response.status_code == 404


def test_an_engineer_signed_in_may_not_grant_or_extend(client, engineer, qc):
    client.force_login(engineer.user)

    grant = client.post(
        f"{URL}{qc.assignment.pk}/attempts/",
        {"extra": 1, "reason": "x"},
        content_type="application/json",
    )
    extend = client.patch(
        f"{URL}{qc.assignment.pk}/",
        {"due_at": later(), "reason": "x"},
        content_type="application/json",
    )

    assert (grant.status_code, extend.status_code) == (403, 403)
    # Reading their own assignment is fine.
    assert item(client.get(f"{URL}{qc.assignment.pk}/"))["id"] == qc.assignment.pk


def test_a_token_without_the_scope_is_refused_and_no_token_is_401(token_client, anon, qc):
    url = f"{URL}{qc.assignment.pk}/attempts/"
    body = {"extra": 1, "reason": "x"}
    assert token_client("releases").post(url, body, format="json").status_code == 403
    assert token_client("releases").patch(f"{URL}{qc.assignment.pk}/", {}).status_code == 403
    assert anon.post(url, body, format="json").status_code == 401


# --- extending -------------------------------------------------------------------------


def test_a_token_extends_a_due_date_and_gets_the_assignment(writer, qc):
    due = (timezone.now() + timedelta(days=12)).replace(microsecond=0)

    data = item(
        writer.patch(
            f"{URL}{qc.assignment.pk}/",
            {"due_at": due.isoformat(), "reason": "Sick leave"},
            format="json",
        )
    )

    assert data["due_at"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert data["extended"] is True
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ASSIGNMENT_EXTENDED)
    assert event.details["reason"] == "Sick leave"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "x"}, "due_at"),
        ({"due_at": "2030-01-01T00:00:00", "reason": "x"}, "due_at"),
        ({"due_at": "2001-01-01T00:00:00Z", "reason": "x"}, "due_at"),
        ({"due_at": "next week", "reason": "x"}, "due_at"),
        ({"due_at": "2030-01-01T00:00:00Z"}, "reason"),
        ({"due_at": "2030-01-01T00:00:00Z", "reason": ""}, "reason"),
    ],
    ids=["missing", "naive", "past", "garbage", "no-reason", "blank-reason"],
)
def test_a_bad_extension_is_a_400_naming_the_field(writer, qc, body, field):
    response = writer.patch(f"{URL}{qc.assignment.pk}/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
