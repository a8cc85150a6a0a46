"""Readiness of support for a release, and the availability gate it guards."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from core.actors import Actor
from courses.models import Course, Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    QuizFactory,
    ReleaseFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Assignment, Attempt, AuditEvent
from training.readiness import release_readiness, release_readiness_fresh
from training.services.managers import manager_grant

pytestmark = pytest.mark.django_db

DONE = {Assignment.Status.COMPLETE, Assignment.Status.EXEMPT}


@pytest.fixture
def release(sdk):
    release = ReleaseFactory(sdk=sdk, version="2.4.0", status=Release.Status.PUBLISHED)
    QuizFactory(course=CourseFactory(slug="rtm-android-2-4-0", release=release))
    return release


def assign(release, engineer, status=Assignment.Status.ASSIGNED, *, course=None, **fields):
    now = timezone.now()
    fields.setdefault("due_at", now + timedelta(days=3))
    fields.setdefault("reason", Assignment.Reason.RELEASE)
    return AssignmentFactory(
        engineer=engineer,
        course=course or release.courses.order_by("id").first(),
        status=status,
        completed_at=now if status in DONE else None,
        **fields,
    )


def people(team, region: str, count: int) -> list:
    return [EngineerFactory(team=team, region=region) for _ in range(count)]


def overdue(release, engineer):
    past = timezone.now() - timedelta(hours=1)
    return assign(release, engineer, assigned_at=past - timedelta(days=1), due_at=past)


@pytest.fixture
def mixed(release, team):
    """APAC 3 complete + 1 exempt; EMEA 2 complete, 1 open, 1 overdue; AMER 1 open,
    1 overdue."""
    apac, emea, amer = people(team, "APAC", 4), people(team, "EMEA", 4), people(team, "AMER", 2)
    for engineer in apac[:3] + emea[:2]:
        assign(release, engineer, Assignment.Status.COMPLETE)
    assign(release, apac[3], Assignment.Status.EXEMPT)
    assign(release, emea[2], Assignment.Status.IN_PROGRESS)
    overdue(release, emea[3])
    assign(release, amer[0])
    overdue(release, amer[1])
    return release


def test_readiness_counts_engineers_overall_and_per_region(mixed):
    readiness = release_readiness(mixed)

    assert readiness == {
        "ready": False,
        "policy": {"min_completion": 0.9, "min_complete_per_region": 1},
        "required": 10,
        "complete": 5,
        "exempt": 1,
        "overdue": 2,
        "completion": 0.6,
        "due_at": mixed.customer_available_at - timedelta(hours=48),
        "regions": {
            "APAC": {"required": 4, "complete": 4},
            "EMEA": {"required": 4, "complete": 2},
            "AMER": {"required": 2, "complete": 0},
        },
        "reasons": [
            {"code": "below_completion", "params": {"completion": 0.6, "min": 0.9}},
            {"code": "region_without_complete", "params": {"region": "AMER"}},
        ],
        "blocking": ["completion 60% is below 90%", "AMER has no complete engineer"],
        "at_risk": True,
        "risks": [{"code": "engineers_overdue", "params": {"count": 2}}],
        "scope": "all",
    }


@pytest.mark.parametrize(("fresh", "queries"), [(True, 2), (False, 4)], ids=["gate", "kept"])
def test_readiness_is_counted_in_constant_queries_whatever_the_team_size(
    mixed, team, fresh, queries, django_assert_num_queries
):
    for engineer in people(team, "AMER", 25):
        assign(mixed, engineer, Assignment.Status.COMPLETE)

    # Kept: read the snapshot, count, store the count (test_readiness_snapshot.py).
    with django_assert_num_queries(queries):
        readiness = (release_readiness_fresh if fresh else release_readiness)(mixed)

    assert readiness["required"] == 35


def test_a_release_nobody_must_train_for_is_ready(release):
    readiness = release_readiness(release)

    assert (readiness["required"], readiness["completion"], readiness["ready"]) == (0, 1.0, True)
    assert readiness["regions"] == {}
    assert readiness["blocking"] == []


def test_an_engineer_is_complete_only_when_every_release_course_is_done(release, engineer):
    second = QuizFactory(course=CourseFactory(release=release)).course
    assign(release, engineer, Assignment.Status.COMPLETE)
    assign(release, engineer, Assignment.Status.IN_PROGRESS, course=second)

    readiness = release_readiness(release)

    assert (readiness["required"], readiness["complete"], readiness["exempt"]) == (1, 0, 0)


def test_exempt_counts_apart_when_all_is_exempt_and_as_complete_otherwise(release, team):
    all_exempt, half = people(team, "APAC", 2)
    second = QuizFactory(course=CourseFactory(release=release)).course
    assign(release, all_exempt, Assignment.Status.EXEMPT)
    assign(release, all_exempt, Assignment.Status.EXEMPT, course=second)
    assign(release, half, Assignment.Status.EXEMPT)
    assign(release, half, Assignment.Status.COMPLETE, course=second)

    readiness = release_readiness(release)

    assert (readiness["complete"], readiness["exempt"], readiness["completion"]) == (1, 1, 1.0)
    assert readiness["regions"] == {"APAC": {"required": 2, "complete": 2}}
    assert readiness["ready"] is True


def test_every_active_engineer_in_scope_is_required_and_only_mandatory_training_completes(
    release, team, engineer
):
    inactive = EngineerFactory(team=team, active=False)
    optional, by_lead = people(team, "EMEA", 2)
    other_release = ReleaseFactory(sdk=release.sdk, status=Release.Status.PUBLISHED)
    assign(release, engineer, Assignment.Status.COMPLETE)
    assign(release, inactive, Assignment.Status.COMPLETE)
    assign(release, optional, Assignment.Status.COMPLETE, mandatory=False)
    assign(release, by_lead, Assignment.Status.COMPLETE, reason=Assignment.Reason.LEAD)
    assign(
        other_release,
        engineer,
        course=QuizFactory(course=CourseFactory(release=other_release)).course,
    )

    readiness = release_readiness(release)

    assert (readiness["required"], readiness["complete"], readiness["ready"]) == (3, 1, False)
    assert readiness["regions"] == {
        "APAC": {"required": 1, "complete": 1},
        "EMEA": {"required": 2, "complete": 0},
    }


def test_a_release_whose_fan_out_has_not_run_yet_is_not_ready(release, team, engineer):
    readiness = release_readiness(release)

    assert (readiness["required"], readiness["complete"], readiness["ready"]) == (1, 0, False)
    assert readiness["blocking"] == ["completion 0% is below 90%", "APAC has no complete engineer"]


def test_a_completion_just_under_the_bar_never_reads_as_meeting_it(release, team):
    engineers = people(team, "APAC", 30)
    for engineer in engineers[:26]:
        assign(release, engineer, Assignment.Status.COMPLETE)
    for engineer in engineers[26:]:
        assign(release, engineer)

    readiness = release_readiness(release)

    assert readiness["completion"] == 0.8667
    assert readiness["blocking"] == ["completion 86% is below 90%"]


@override_settings(PREFLIGHT_MIN_COMPLETION=0.5, PREFLIGHT_MIN_COMPLETE_PER_REGION=3)
def test_the_policy_comes_from_settings(mixed):
    readiness = release_readiness(mixed)

    assert readiness["policy"] == {"min_completion": 0.5, "min_complete_per_region": 3}
    assert readiness["blocking"] == [
        "EMEA has 2 complete engineers, fewer than 3",
        "AMER has no complete engineer",
    ]


# --- the API ------------------------------------------------------------------------

URL = "/api/v1/releases/rtm-android/2.4.0/"


def test_the_readiness_endpoint_answers_the_contract_shape(pipeline, mixed):
    response = pipeline.get(URL + "readiness/")

    assert response.status_code == 200
    data = response.json()
    assert data["due_at"].endswith("Z")
    assert data["regions"]["AMER"] == {"required": 2, "complete": 0}
    assert data["blocking"] == ["completion 60% is below 90%", "AMER has no complete engineer"]
    assert set(data) == {
        "ready",
        "policy",
        "required",
        "complete",
        "exempt",
        "overdue",
        "completion",
        "due_at",
        "regions",
        "reasons",
        "blocking",
        "at_risk",
        "risks",
        "scope",
    }
    assert [reason["code"] for reason in data["reasons"]] == [
        "below_completion",
        "region_without_complete",
    ]


def test_readiness_blocking_is_in_the_language_the_client_asks_for(pipeline, mixed):
    response = pipeline.get(URL + "readiness/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.json()["blocking"] == ["完成率 60% 低于 90%", "AMER 没有已完成培训的工程师"]
    assert response.json()["reasons"][1] == {
        "code": "region_without_complete",
        "params": {"region": "AMER"},
    }


def test_availability_is_refused_with_the_reasons_while_support_is_not_ready(pipeline, mixed):
    response = pipeline.post(URL + "availability/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["blocking"] == [
        "completion 60% is below 90%",
        "AMER has no complete engineer",
    ]
    mixed.refresh_from_db()
    assert (mixed.status, mixed.available_at) == (Release.Status.PUBLISHED, None)
    assert not AuditEvent.objects.exists()


def test_availability_is_granted_once_support_is_ready(pipeline, mixed):
    assert pipeline.post(URL + "availability/", {}, format="json").status_code == 409
    now = timezone.now()
    Assignment.objects.exclude(status__in=DONE).update(
        status=Assignment.Status.COMPLETE, completed_at=now
    )

    response = pipeline.post(URL + "availability/", {}, format="json")
    again = pipeline.post(URL + "availability/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "available"
    assert response.json()["available_at"].endswith("Z")
    assert again.status_code == 200
    assert again.json()["available_at"] == response.json()["available_at"]
    event = AuditEvent.objects.get()
    assert (event.kind, event.release) == (AuditEvent.Kind.RELEASE_AVAILABLE, mixed)


def test_a_draft_cannot_become_available(pipeline, sdk):
    ReleaseFactory(sdk=sdk, version="2.4.0")

    response = pipeline.post(URL + "availability/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["blocking"] == ["the release is draft"]


def test_overriding_the_gate_needs_the_override_scope(pipeline, mixed):
    response = pipeline.post(
        URL + "availability/", {"override": True, "reason": "Hotfix"}, format="json"
    )

    assert response.status_code == 403
    assert "releases:override" in response.json()["detail"]
    assert Release.objects.get().status == Release.Status.PUBLISHED


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_overriding_the_gate_needs_a_reason(token_client, mixed, reason):
    client = token_client("releases", "releases:override")
    data = {"override": True} if reason is None else {"override": True, "reason": reason}

    response = client.post(URL + "availability/", data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    assert Release.objects.get().status == Release.Status.PUBLISHED


def test_an_override_is_kept_on_the_record_with_the_readiness_of_that_moment(token_client, mixed):
    client = token_client("releases", "releases:override")
    before = release_readiness(mixed)

    response = client.post(
        URL + "availability/",
        {"override": True, "reason": "Security fix; AMER briefed by phone."},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "available"
    event = AuditEvent.objects.get()
    assert event.kind == AuditEvent.Kind.RELEASE_OVERRIDE
    assert event.release == mixed
    assert event.token.name == "test-releases-releases:override"
    assert event.details["reason"] == "Security fix; AMER briefed by phone."
    assert event.details["by"] == "token:test-releases-releases:override"
    assert event.details["readiness"] == {**before, "due_at": before["due_at"].isoformat()}
    mixed.refresh_from_db()
    assert event.created_at == mixed.available_at


def test_a_staff_member_may_override_in_their_own_name(client, mixed):
    stella = UserFactory(username="stella", is_staff=True)
    client.force_login(stella)

    response = client.post(
        URL + "availability/",
        {"override": True, "reason": "Agreed with R&D."},
        content_type="application/json",
    )

    assert response.status_code == 200
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.RELEASE_OVERRIDE)
    assert (event.actor, event.details["by"]) == (stella, "stella")


def test_an_override_of_a_ready_release_is_an_ordinary_availability(token_client, release):
    client = token_client("releases", "releases:override")

    response = client.post(
        URL + "availability/", {"override": True, "reason": "Just in case."}, format="json"
    )

    assert response.status_code == 200
    assert AuditEvent.objects.get().kind == AuditEvent.Kind.RELEASE_AVAILABLE


def test_a_malformed_availability_body_is_a_400(pipeline, mixed):
    response = pipeline.post(URL + "availability/", {"override": "perhaps"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["override"]


def test_a_release_with_only_a_draft_course_is_never_ready_however_many_read_it(
    pipeline, sdk, team
):
    release = ReleaseFactory(sdk=sdk, version="2.6.0", status=Release.Status.PUBLISHED)
    draft = CourseFactory(slug="rtm-android-2-6-0", release=release, status="draft")
    for engineer in people(team, "APAC", 3):
        assign(release, engineer, Assignment.Status.COMPLETE, course=draft)

    readiness = release_readiness(release)

    assert (readiness["complete"], readiness["completion"]) == (3, 1.0)
    assert not readiness["ready"]
    assert readiness["reasons"] == [
        {
            "code": "course_draft",
            "params": {
                "course": "rtm-android-2-6-0",
                "sdk": "rtm-android",
                "version": "2.6.0",
                "has_quiz": False,
            },
        }
    ]
    response = pipeline.post("/api/v1/releases/rtm-android/2.6.0/availability/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["blocking"] == [
        "the course for rtm-android 2.6.0 has no quiz yet (rtm-android-2-6-0)"
    ]


def test_publishing_the_course_with_a_quiz_lifts_the_draft_reason(sdk, team):
    release = ReleaseFactory(sdk=sdk, version="2.6.0", status=Release.Status.PUBLISHED)
    course = CourseFactory(slug="rtm-android-2-6-0", release=release, status="draft")
    QuizFactory(course=course)
    assert release_readiness_fresh(release)["reasons"][0]["params"]["has_quiz"] is True

    Course.objects.filter(pk=course.pk).update(status="published")

    assert release_readiness_fresh(release)["reasons"] == []


def test_an_available_release_asked_again_answers_200_even_with_an_override(token_client, mixed):
    Release.objects.filter(pk=mixed.pk).update(
        status=Release.Status.AVAILABLE, available_at=mixed.customer_available_at
    )
    client = token_client("releases")
    for body in ({}, {"override": True}, {"override": True, "reason": "again"}):
        response = client.post(URL + "availability/", body, format="json")
        assert response.status_code == 200
        assert response.json()["status"] == "available"


def test_a_signed_in_lead_reads_their_own_teams_readiness_only(lead, mixed, sdk):
    other_team = TeamFactory(slug="emea-rtm", sdks=[sdk])
    for engineer in people(other_team, "EMEA", 3):
        assign(mixed, engineer)
    client = APIClient()
    client.force_authenticate(lead)

    data = client.get(URL + "readiness/").json()

    assert data["scope"] == "teams"
    assert (data["required"], data["complete"], data["exempt"]) == (10, 5, 1)
    assert release_readiness(mixed)["required"] == 13


def test_an_engineer_signed_in_may_not_read_readiness(engineer, mixed):
    client = APIClient()
    client.force_authenticate(engineer.user)
    response = client.get(URL + "readiness/")
    assert response.status_code == 403
    assert "leads and release pipelines" in response.json()["detail"]


def test_a_lead_of_another_sdk_gets_404_for_the_release_readiness(outsider, mixed):
    client = APIClient()
    client.force_authenticate(outsider.team.leads.get())
    assert client.get(URL + "readiness/").status_code == 404


def test_a_pipeline_token_reads_every_engineer(pipeline, mixed):
    assert pipeline.get(URL + "readiness/").json()["scope"] == "all"


def test_a_locked_out_engineer_puts_the_release_at_risk_until_granted_an_attempt(mixed, team):
    course = mixed.courses.get()
    quiz = course.quiz
    engineer = people(team, "AMER", 1)[0]
    assignment = assign(mixed, engineer, Assignment.Status.IN_PROGRESS)
    for number in range(1, quiz.max_attempts + 1):
        Attempt.objects.create(
            engineer=engineer,
            quiz=quiz,
            assignment=assignment,
            number=number,
            pass_mark=80,
            snapshot={},
            submitted_at=timezone.now(),
            score=10,
            passed=False,
        )

    readiness = release_readiness_fresh(mixed)
    assert {"code": "engineers_locked_out", "params": {"count": 1}} in readiness["risks"]

    Assignment.objects.filter(pk=assignment.pk).update(extra_attempts=1)
    risks = release_readiness_fresh(mixed)["risks"]
    assert all(risk["code"] != "engineers_locked_out" for risk in risks)


def test_a_support_manager_signed_in_reads_every_engineer(mixed, team, sdk, staff):
    maya = UserFactory(username="maya")
    manager_grant(user=maya, actor=Actor(user=staff))
    other_team = TeamFactory(slug="emea-rtm", sdks=[sdk])
    people(other_team, "EMEA", 3)
    client = APIClient()
    client.force_authenticate(maya)

    data = client.get(URL + "readiness/").json()

    assert data["scope"] == "all"
    assert data["required"] == 13
