"""The release fan-out: who is assigned, when it is due, and that it never duplicates."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils.dateparse import parse_datetime

from courses.models import Release
from tests.factories import (
    CourseFactory,
    EngineerFactory,
    ReleaseFactory,
    SdkFactory,
    TeamFactory,
)
from training.models import Assignment
from training.services.assignments import release_assign_training
from training.tasks import assign_release_training

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def published(sdk, **kwargs) -> Release:
    release = ReleaseFactory(sdk=sdk, status=Release.Status.PUBLISHED, **kwargs)
    CourseFactory(release=release)
    return release


def assigned_usernames(release) -> list[str]:
    return sorted(
        Assignment.objects.filter(release=release).values_list(
            "engineer__user__username", flat=True
        )
    )


def test_only_active_engineers_of_teams_supporting_the_sdk_are_assigned(
    sdk, team, engineer, outsider
):
    EngineerFactory(user__username="bob", team=team, region="EMEA")
    EngineerFactory(user__username="inez", team=team, active=False)
    EngineerFactory(user__username="nomad", team=None)
    second_team = TeamFactory(slug="amer-rtm", sdks=[sdk, SdkFactory(slug="rtc-ios")])
    EngineerFactory(user__username="carla", team=second_team, region="AMER")
    release = published(sdk)

    created = release_assign_training(release=release)

    assert created == 3
    assert assigned_usernames(release) == ["alice", "bob", "carla"]
    assignment = Assignment.objects.get(engineer=engineer)
    assert (assignment.reason, assignment.mandatory, assignment.status) == (
        Assignment.Reason.RELEASE,
        True,
        Assignment.Status.ASSIGNED,
    )
    assert assignment.course.release == release
    assert assignment.assigned_by is None


@time_machine.travel(NOW, tick=False)
def test_training_is_due_the_lead_time_before_the_customer_date(sdk, engineer):
    release = published(sdk, customer_available_at=NOW + timedelta(days=10))

    release_assign_training(release=release)

    assignment = Assignment.objects.get(engineer=engineer)
    assert assignment.due_at == NOW + timedelta(days=10) - timedelta(hours=48)
    assert assignment.assigned_at == NOW


@time_machine.travel(NOW, tick=False)
def test_a_due_date_already_past_makes_the_training_due_at_once(sdk, engineer):
    release = published(sdk, customer_available_at=NOW + timedelta(hours=20))

    release_assign_training(release=release)

    assert Assignment.objects.get(engineer=engineer).due_at == NOW


@pytest.mark.parametrize(
    ("customer_date", "due"),
    [
        # Europe/Berlin summer time began on 29 March: the lead time is 48 real hours.
        ("2026-03-30T09:00:00+02:00", "2026-03-28T07:00:00Z"),
        # Berlin winter time again from 25 October.
        ("2026-10-26T09:00:00+01:00", "2026-10-24T08:00:00Z"),
        # New York switched to summer time on 8 March.
        ("2026-03-09T09:00:00-04:00", "2026-03-07T13:00:00Z"),
        ("2026-12-15T09:00:00+08:00", "2026-12-13T01:00:00Z"),
        ("2026-12-15T09:00:00Z", "2026-12-13T09:00:00Z"),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_due_dates_are_exact_across_time_zones_and_daylight_saving(
    sdk, engineer, customer_date, due
):
    release = published(sdk, customer_available_at=parse_datetime(customer_date))

    release_assign_training(release=release)

    assert Assignment.objects.get(engineer=engineer).due_at == parse_datetime(due)


def test_running_the_fan_out_twice_assigns_once(sdk, engineer):
    release = published(sdk)

    first = release_assign_training(release=release)
    due = Assignment.objects.get(engineer=engineer).due_at
    second = assign_release_training(release.pk)

    assert (first, second) == (1, 0)
    assert Assignment.objects.filter(release=release).count() == 1
    assert Assignment.objects.get(engineer=engineer).due_at == due


def test_an_existing_assignment_is_left_as_it_is(sdk, engineer, lead):
    release = published(sdk)
    course = release.courses.get()
    Assignment.objects.create(
        engineer=engineer,
        course=course,
        release=release,
        reason=Assignment.Reason.LEAD,
        assigned_by=lead,
        due_at=release.customer_available_at,
    )

    assert release_assign_training(release=release) == 0
    assignment = Assignment.objects.get(engineer=engineer)
    assert (assignment.reason, assignment.due_at) == (
        Assignment.Reason.LEAD,
        release.customer_available_at,
    )


def test_each_course_of_the_release_is_assigned(sdk, engineer):
    release = published(sdk)
    CourseFactory(release=release)

    assert release_assign_training(release=release) == 2


def test_a_new_engineer_is_assigned_when_the_fan_out_runs_again(sdk, team, engineer):
    release = published(sdk)
    release_assign_training(release=release)
    EngineerFactory(user__username="newbie", team=team)

    assert release_assign_training(release=release) == 1
    assert assigned_usernames(release) == ["alice", "newbie"]


@pytest.mark.parametrize("state", [Release.Status.DRAFT, Release.Status.AVAILABLE])
def test_a_release_that_is_not_published_assigns_nobody(sdk, engineer, state):
    release = ReleaseFactory(sdk=sdk, status=state)
    CourseFactory(release=release)

    assert release_assign_training(release=release) == 0
    assert not Assignment.objects.exists()


def test_the_task_for_a_deleted_release_does_nothing():
    assert assign_release_training(999_999) == 0
