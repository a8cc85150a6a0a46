"""The whole-release count on PostgreSQL reads each assignment's `scope_region`,
kept by triggers (training/migrations/0014_assignment_scope_region.py) instead of
joining the engineers. After every kind of write that moves an engineer in or out of
a release's scope, or to another region, it must agree with the join that a lead's
count still makes (count_by_region with team ids: the same rule, written the other
way), and with the rule itself: required = active engineers on the SDK's teams."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.expressions import RawSQL
from django.utils import timezone

from courses.models import Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    QuizFactory,
    ReleaseFactory,
    SdkFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Assignment, Engineer, Team
from training.readiness.counts import count_by_region
from training.services.assignments import release_assign_training

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="scope_region and its triggers are PostgreSQL's; SQLite counts with the join",
    ),
]


@pytest.fixture
def release(sdk):
    release = ReleaseFactory(sdk=sdk, version="3.0.0", status=Release.Status.PUBLISHED)
    QuizFactory(course=CourseFactory(slug="rtm-android-3-0-0", release=release))
    return release


@pytest.fixture
def other_team(db):
    return TeamFactory(slug="emea-voice", sdks=[SdkFactory(slug="voice-ios")])


def assign(release, engineer, status=Assignment.Status.ASSIGNED, course=None):
    done = status in (Assignment.Status.COMPLETE, Assignment.Status.EXEMPT)
    return AssignmentFactory(
        engineer=engineer,
        course=course or release.courses.order_by("id").first(),
        reason=Assignment.Reason.RELEASE,
        status=status,
        completed_at=timezone.now() if done else None,
        due_at=timezone.now() + timedelta(days=3),
    )


def counted(release):
    """The scoped count, after checking it against the join over every team."""
    now = timezone.now()
    scoped, scoped_due = count_by_region(release, now=now)
    teams = list(Team.objects.filter(sdks=release.sdk_id).values_list("id", flat=True))
    joined, joined_due = count_by_region(release, now=now, team_ids=teams)
    assert scoped == joined
    assert scoped_due == joined_due
    required = Engineer.objects.filter(active=True, team__sdks=release.sdk_id).count()
    assert sum(region["required"] for region in scoped.values()) == required
    assert kept_engineer_counts() == live_engineer_counts()
    return scoped


def kept_engineer_counts() -> dict:
    """training_team_region_count (migration 0020), without its emptied rows."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT team_id, region, n FROM training_team_region_count WHERE n <> 0")
        return {(team, region): n for team, region, n in cursor.fetchall()}


def live_engineer_counts() -> dict:
    rows = (
        Engineer.objects.filter(active=True, team__isnull=False)
        .values_list("team_id", "region")
        .annotate(n=Count("id"))
    )
    return {(team, region): n for team, region, n in rows}


def scope_regions(release):
    return dict(
        Assignment.objects.filter(release=release)
        .annotate(scope=RawSQL("scope_region", []))
        .values_list("engineer__user__username", "scope")
    )


def test_a_new_assignment_takes_its_engineers_region(release, team):
    alice = EngineerFactory(team=team, region="EMEA")
    assign(release, alice, Assignment.Status.COMPLETE)
    EngineerFactory(team=team, region="APAC")  # in scope, not assigned yet

    assert scope_regions(release) == {alice.username: "EMEA"}
    assert counted(release) == {
        "EMEA": {"required": 1, "complete": 1, "exempt": 0, "overdue": 0},
        "APAC": {"required": 1, "complete": 0, "exempt": 0, "overdue": 0},
    }


def test_the_fan_out_and_bulk_inserts_are_scoped_too(release, team, other_team):
    EngineerFactory.create_batch(3, team=team, region="AMER")
    outside = EngineerFactory(team=other_team, region="AMER")
    Assignment.objects.bulk_create(
        [
            Assignment(
                engineer=outside,
                course=release.courses.get(),
                release=release,
                reason=Assignment.Reason.RELEASE,
                due_at=timezone.now() + timedelta(days=3),
            )
        ]
    )

    assert release_assign_training(release=release) == 3

    assert scope_regions(release)[outside.username] is None
    assert counted(release) == {"AMER": {"required": 3, "complete": 0, "exempt": 0, "overdue": 0}}


def test_deactivating_and_reactivating_an_engineer(release, team):
    alice, bob = EngineerFactory.create_batch(2, team=team, region="EMEA")
    assign(release, alice, Assignment.Status.COMPLETE)
    assign(release, bob)

    alice.active = False
    alice.save()
    assert counted(release) == {"EMEA": {"required": 1, "complete": 0, "exempt": 0, "overdue": 0}}

    Engineer.objects.filter(pk=alice.pk).update(active=True)
    assert counted(release) == {"EMEA": {"required": 2, "complete": 1, "exempt": 0, "overdue": 0}}


def test_moving_an_engineer_to_another_region_or_team(release, team, other_team):
    alice = EngineerFactory(team=team, region="APAC")
    assign(release, alice, Assignment.Status.COMPLETE)

    Engineer.objects.filter(pk=alice.pk).update(region="AMER")
    assert counted(release) == {"AMER": {"required": 1, "complete": 1, "exempt": 0, "overdue": 0}}

    alice.refresh_from_db()
    alice.team = other_team
    alice.save()
    assert counted(release) == {}
    assert scope_regions(release) == {alice.username: None}


def test_a_team_dropping_and_taking_back_the_sdk(release, team, sdk):
    alice = EngineerFactory(team=team, region="EMEA")
    assign(release, alice, Assignment.Status.EXEMPT)

    team.sdks.remove(sdk)
    assert counted(release) == {}

    team.sdks.add(sdk)
    assert counted(release) == {"EMEA": {"required": 1, "complete": 0, "exempt": 1, "overdue": 0}}


def test_a_deleted_team_takes_its_engineers_out_of_scope(release, team):
    alice = EngineerFactory(team=team, region="EMEA")
    assign(release, alice)

    team.delete()

    assert counted(release) == {}


def test_saving_an_assignment_through_the_orm_keeps_its_scope(release, team):
    alice = EngineerFactory(team=team, region="EMEA")
    assignment = assign(release, alice)

    assignment.refresh_from_db()
    assignment.status = Assignment.Status.IN_PROGRESS
    assignment.save()

    assert scope_regions(release) == {alice.username: "EMEA"}
    assert counted(release)["EMEA"]["required"] == 1


def test_several_courses_are_counted_per_engineer(release, team):
    second = QuizFactory(course=CourseFactory(slug="rtm-android-3-0-0-b", release=release)).course
    alice = EngineerFactory(team=team, region="EMEA")
    assign(release, alice, Assignment.Status.COMPLETE)
    assign(release, alice, course=second)
    EngineerFactory(team=team, region="EMEA")

    assert counted(release) == {"EMEA": {"required": 2, "complete": 0, "exempt": 0, "overdue": 0}}


def test_engineers_deleted_or_made_in_bulk_are_counted(release, team, other_team):
    alice = EngineerFactory(team=team, region="EMEA")
    assign(release, alice, Assignment.Status.COMPLETE)
    users = [UserFactory() for _ in range(3)]
    Engineer.objects.bulk_create(
        Engineer(user=user, team=team, region="AMER", timezone="America/New_York") for user in users
    )
    assert counted(release)["AMER"]["required"] == 3

    Engineer.objects.filter(region="AMER").update(team=other_team)
    alice.user.delete()  # the engineer goes with their user

    assert counted(release) == {}
