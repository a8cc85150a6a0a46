"""Readiness counts kept between reads (ReadinessSnapshot): served while nothing they
depend on has changed, counted anew after every write that changes them.

Each test primes the snapshot with a first read, makes one change through the
service (or the admin) that production uses, and checks that the next read shows it.
"""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

import training.readiness as readiness_api
from core.actors import SYSTEM
from core.errors import Conflict
from courses.models import Release
from tests.factories import (
    CourseFactory,
    EngineerFactory,
    FeatureFactory,
    QuizFactory,
    ReleaseFactory,
    SdkFactory,
    SkillFactory,
    SkillRecordFactory,
    TeamFactory,
)
from training.models import Assignment, Attempt, ReadinessSnapshot
from training.readiness import release_readiness, release_readiness_fresh
from training.readiness.keep import readiness_changed
from training.services.assignments import release_assign_training
from training.services.people import engineer_update, team_update
from training.services.progress import assignment_complete_if_done
from training.services.releases import release_mark_available, release_reschedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(sdk):
    release = ReleaseFactory(sdk=sdk, version="3.0.0", status=Release.Status.PUBLISHED)
    # No lessons; a quiz, so it counts: done when its quiz is passed (`complete`).
    QuizFactory(course=CourseFactory(slug="rtm-3", release=release))
    return release


@pytest.fixture
def crew(team, release):
    """Two engineers per region, each assigned the release's course by the fan-out."""
    engineers = [
        EngineerFactory(team=team, region=region)
        for region in ("APAC", "APAC", "EMEA", "EMEA", "AMER", "AMER")
    ]
    assert release_assign_training(release=release) == 6
    return engineers


def assignment_of(engineer, release) -> Assignment:
    return Assignment.objects.select_related("engineer", "course").get(
        engineer=engineer, release=release
    )


def passed(engineer, course) -> None:
    Attempt.objects.create(
        engineer=engineer,
        quiz=course.quiz,
        number=1,
        pass_mark=80,
        snapshot={},
        submitted_at=timezone.now(),
        score=100,
        passed=True,
    )


def complete(engineer, release) -> None:
    assignment = assignment_of(engineer, release)
    passed(engineer, assignment.course)
    assert assignment_complete_if_done(assignment=assignment)


def test_a_second_read_is_served_from_the_snapshot_in_two_queries(
    release, crew, django_assert_num_queries
):
    first = release_readiness(release)

    with django_assert_num_queries(2):  # the snapshot, the release's unfinished courses
        second = release_readiness(release)

    assert second == first
    assert first["required"] == 6
    snapshot = ReadinessSnapshot.objects.get(release=release)
    assert snapshot.counted_version == snapshot.version


def test_a_changed_release_is_counted_again_in_four_queries(
    release, crew, django_assert_num_queries
):
    release_readiness(release)
    engineer_update(engineer=crew[0], actor=SYSTEM, region="AMER")

    with django_assert_num_queries(4):  # the snapshot, the count, storing it, the courses
        readiness = release_readiness(release)

    assert readiness["regions"]["AMER"]["required"] == 3


def test_completed_training_is_folded_into_the_kept_counts_without_a_recount(
    release, crew, django_assert_num_queries
):
    release_readiness(release)
    for engineer in crew[:3]:
        complete(engineer, release)

    with django_assert_num_queries(2):
        kept = release_readiness(release)

    assert kept["complete"] == 3
    assert kept == release_readiness_fresh(release)


def test_folded_counts_match_a_fresh_count_at_every_step(sdk, team):
    """Two courses, an exempt engineer, overdue and open ones, an engineer out of
    scope: after each completion the kept counts equal a recount."""
    release = ReleaseFactory(sdk=sdk, version="5.0.0", status=Release.Status.PUBLISHED)
    courses = [CourseFactory(slug=f"rtm-5-{n}", release=release) for n in range(2)]
    for course in courses:
        QuizFactory(course=course)
    engineers = [EngineerFactory(team=team, region=region) for region in ("APAC", "EMEA") * 3]
    release_assign_training(release=release)
    past = timezone.now() - timedelta(hours=1)
    Assignment.objects.filter(engineer__in=engineers[:2]).update(
        assigned_at=past - timedelta(days=1), due_at=past
    )
    Assignment.objects.filter(engineer=engineers[5]).update(
        status=Assignment.Status.EXEMPT, completed_at=past
    )
    engineers[4].active = False  # left the scope behind the services' back
    engineers[4].save(update_fields=["active"])
    steps = [(engineer, course) for engineer in engineers[:5] for course in courses]

    for engineer, course in steps:
        assert release_readiness(release) == release_readiness_fresh(release)
        assignment = Assignment.objects.select_related("engineer", "course").get(
            engineer=engineer, course=course
        )
        passed(engineer, course)
        assert assignment_complete_if_done(assignment=assignment)
        snapshot = ReadinessSnapshot.objects.get(release=release)
        assert snapshot.counted_version == snapshot.version  # folded, not recounted

    final = release_readiness(release)
    assert final == release_readiness_fresh(release)
    assert (final["complete"], final["exempt"], final["overdue"]) == (4, 1, 0)


def test_the_gate_counts_afresh_in_two_queries_and_stores_nothing(
    release, crew, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the count, the release's unfinished courses
        readiness = release_readiness_fresh(release)

    assert readiness["required"] == 6
    assert not ReadinessSnapshot.objects.filter(release=release, counted_version__isnull=False)


def test_a_completed_release_assignment_shows_at_once(release, crew):
    assert release_readiness(release)["complete"] == 0
    for engineer in crew:
        complete(engineer, release)

    readiness = release_readiness(release)

    assert readiness["complete"] == 6
    assert readiness["ready"] is True


def test_the_fan_out_shows_at_once(release, team):
    skill = SkillFactory(slug="message-ordering")
    FeatureFactory(release=release, key="message-edit", skills=[skill])
    expert, _novice = (EngineerFactory(team=team, region="EMEA") for _ in range(2))
    SkillRecordFactory(engineer=expert, skill=skill, level=4)
    assert release_readiness(release)["exempt"] == 0  # nobody is assigned anything yet

    release_assign_training(release=release)

    readiness = release_readiness(release)
    assert (readiness["exempt"], readiness["regions"]["EMEA"]) == (
        1,
        {"required": 2, "complete": 1},
    )


def test_moved_due_dates_show_as_overdue_at_once(release, crew):
    assert release_readiness(release)["overdue"] == 0

    # Customers get it in an hour: the training (due 48 hours before) is overdue.
    release_reschedule(
        release=release, customer_available_at=timezone.now() + timedelta(hours=1), actor=SYSTEM
    )

    assert release_readiness(release)["overdue"] == 6


def test_the_clock_alone_makes_training_overdue(release, crew):
    due = assignment_of(crew[0], release).due_at
    assert release_readiness(release)["overdue"] == 0

    with time_machine.travel(due + timedelta(seconds=1)):
        assert release_readiness(release)["overdue"] == 6


@pytest.mark.parametrize(
    ("change", "required", "regions"),
    [
        ({"region": "AMER"}, 6, {"APAC": 1, "EMEA": 2, "AMER": 3}),
        ({"active": False}, 5, {"APAC": 1, "EMEA": 2, "AMER": 2}),
        ({"team": None}, 5, {"APAC": 1, "EMEA": 2, "AMER": 2}),
    ],
    ids=["region", "deactivated", "left-the-team"],
)
def test_an_engineer_changing_region_or_leaving_the_scope_shows_at_once(
    release, crew, change, required, regions
):
    release_readiness(release)

    engineer_update(engineer=crew[0], actor=SYSTEM, **change)

    readiness = release_readiness(release)
    assert readiness["required"] == required
    assert {region: r["required"] for region, r in readiness["regions"].items()} == regions


def test_an_engineer_joining_a_team_in_scope_shows_at_once(release, crew):
    newcomer = EngineerFactory(team=TeamFactory(slug="elsewhere"), region="EMEA")
    assert release_readiness(release)["required"] == 6

    engineer_update(engineer=newcomer, actor=SYSTEM, team="apac-rtm")

    assert release_readiness(release)["regions"]["EMEA"]["required"] == 3


def test_a_team_dropping_the_sdk_shows_at_once(release, crew, team):
    assert release_readiness(release)["required"] == 6

    team_update(team=team, sdks=[SdkFactory(slug="other-sdk").slug], actor=SYSTEM)

    assert release_readiness(release)["required"] == 0


def test_deleting_an_engineer_or_a_team_in_the_admin_shows_at_once(
    client, staff, release, crew, team
):
    # An engineer with assignments cannot be deleted there (their history would go
    # with them); one the fan-out has not reached yet can, and counted as required.
    newcomer = EngineerFactory(team=team, region="AMER")
    client.force_login(staff)
    assert release_readiness(release)["regions"]["AMER"]["required"] == 3

    engineer_url = reverse("admin:training_engineer_delete", args=[newcomer.pk])
    assert client.post(engineer_url, {"post": "yes"}).status_code == 302
    assert release_readiness(release)["regions"]["AMER"]["required"] == 2

    team_url = reverse("admin:training_team_delete", args=[team.pk])
    assert client.post(team_url, {"post": "yes"}).status_code == 302
    assert release_readiness(release)["required"] == 0


def test_a_write_made_outside_the_services_shows_once_the_count_is_too_old(release, crew):
    release_readiness(release)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        Assignment.objects.filter(release=release).update(
            status=Assignment.Status.COMPLETE, completed_at=timezone.now()
        )
        assert release_readiness(release)["complete"] == 0  # still the kept count

        clock.shift(timedelta(seconds=301))
        assert release_readiness(release)["complete"] == 6


@override_settings(PREFLIGHT_READINESS_MAX_AGE_SECONDS=0)
def test_a_max_age_of_zero_counts_on_every_read(release, crew):
    release_readiness(release)
    Assignment.objects.filter(release=release).update(
        status=Assignment.Status.COMPLETE, completed_at=timezone.now()
    )

    assert release_readiness(release)["complete"] == 6


def test_the_gate_never_trusts_the_snapshot(release, crew):
    assert release_readiness(release)["ready"] is False
    # Made behind the services' back: the snapshot does not know.
    Assignment.objects.filter(release=release).update(
        status=Assignment.Status.COMPLETE, completed_at=timezone.now()
    )
    assert release_readiness(release)["ready"] is False

    assert release_mark_available(release=release, actor=SYSTEM).status == "available"


def test_the_gate_refuses_on_a_fresh_count_even_if_the_snapshot_says_ready(release, crew):
    for engineer in crew:
        complete(engineer, release)
    assert release_readiness(release)["ready"] is True
    Assignment.objects.filter(release=release).update(
        status=Assignment.Status.IN_PROGRESS, completed_at=None
    )

    with pytest.raises(Conflict):
        release_mark_available(release=release, actor=SYSTEM)


def test_a_count_that_raced_a_write_is_not_kept(release, crew, monkeypatch):
    """A write that commits while a read is counting raises the version the read
    took before counting: the read's count is returned but never served again."""
    count = readiness_api.count_by_region

    def count_while_a_quiz_is_passed(release, **kwargs):
        counted = count(release, **kwargs)  # missed the completion below
        complete(crew[0], release)
        return counted

    monkeypatch.setattr(readiness_api, "count_by_region", count_while_a_quiz_is_passed)
    assert release_readiness(release)["complete"] == 0
    monkeypatch.undo()

    snapshot = ReadinessSnapshot.objects.get(release=release)
    assert snapshot.counted_version != snapshot.version
    assert release_readiness(release)["complete"] == 1


def test_a_release_without_a_snapshot_gets_one(release, crew):
    ReadinessSnapshot.objects.filter(release=release).delete()

    assert release_readiness(release)["required"] == 6
    assert release_readiness(release)["required"] == 6
    snapshot = ReadinessSnapshot.objects.get(release=release)
    assert snapshot.counted_version == snapshot.version


def test_readiness_changed_upserts_in_release_order(sdk):
    releases = [ReleaseFactory(sdk=sdk, version=f"4.{n}.0") for n in range(3)]
    ReadinessSnapshot.objects.filter(release=releases[1]).delete()

    readiness_changed(release_ids=[releases[0].pk], sdk_ids=[sdk.pk, None])

    versions = dict(ReadinessSnapshot.objects.values_list("release_id", "version"))
    assert versions == {releases[0].pk: 1, releases[1].pk: 1, releases[2].pk: 1}
