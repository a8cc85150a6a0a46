from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import Release
from tests.factories import (
    CourseFactory,
    EngineerFactory,
    FeatureFactory,
    ReleaseFactory,
    SkillFactory,
    SkillRecordFactory,
)
from training.models import Assignment, AuditEvent
from training.services.assignments import engineer_assign_backlog, release_assign_training
from training.services.reconcile import reconcile


@pytest.fixture
def published(sdk):
    release = ReleaseFactory(sdk=sdk, version="2.4.0", status=Release.Status.PUBLISHED)
    CourseFactory(slug="rtm-android-2-4", release=release)
    return release


def test_reconcile_recreates_deleted_assignments_and_assigns_a_new_hire(published, engineer, team):
    release_assign_training(release=published)
    Assignment.objects.all().delete()
    new_hire = EngineerFactory(team=team, region="EMEA", timezone="Europe/London")

    created = reconcile()

    assert created["release"] == 2
    assert set(Assignment.objects.values_list("engineer", flat=True)) == {engineer.pk, new_hire.pk}
    assert reconcile() == {"onboarding": 0, "release": 0}


def test_reconcile_gives_onboarding_courses_to_every_active_engineer_of_the_team(engineer, team):
    onboarding = CourseFactory(slug="how-we-support")
    team.onboarding_courses.add(onboarding)
    EngineerFactory(team=team, active=False)

    assert reconcile()["onboarding"] == 1
    assignment = Assignment.objects.get()
    assert (assignment.engineer, assignment.course, assignment.reason) == (
        engineer,
        onboarding,
        Assignment.Reason.ONBOARDING,
    )


def test_reconcile_leaves_drafts_and_releases_with_customers_alone(sdk, engineer):
    for status in (Release.Status.DRAFT, Release.Status.AVAILABLE):
        CourseFactory(release=ReleaseFactory(sdk=sdk, status=status))
    assert reconcile()["release"] == 0


def test_a_new_engineer_gets_the_training_of_open_releases_and_onboarding(published, team):
    team.onboarding_courses.add(CourseFactory(slug="onboarding"))
    newcomer = EngineerFactory(team=team)
    assert engineer_assign_backlog(engineer=newcomer) == 2
    assert engineer_assign_backlog(engineer=newcomer) == 0


def test_an_engineer_whose_current_skills_cover_the_release_is_exempt_and_audited(
    published, engineer, team
):
    ordering, push = SkillFactory(slug="message-ordering"), SkillFactory(slug="push")
    FeatureFactory(release=published, key="message-edit", skills=[ordering])
    FeatureFactory(release=published, key="push-offline", skills=[push])
    SkillRecordFactory(engineer=engineer, skill=ordering, level=3)
    SkillRecordFactory(engineer=engineer, skill=push, level=4)
    novice = EngineerFactory(team=team)
    SkillRecordFactory(engineer=novice, skill=ordering, level=3)  # push is missing

    release_assign_training(release=published)

    exempt = Assignment.objects.get(engineer=engineer)
    assert exempt.status == Assignment.Status.EXEMPT
    assert exempt.completed_at is not None and "skill records" in exempt.exempt_reason
    assert Assignment.objects.get(engineer=novice).status == Assignment.Status.ASSIGNED
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ASSIGNMENT_EXEMPT)
    assert event.release == published and event.details["engineers"] == ["alice"]


def test_a_skill_record_too_old_or_too_low_does_not_exempt(published, engineer, team, settings):
    ordering = SkillFactory(slug="message-ordering")
    FeatureFactory(release=published, key="message-edit", skills=[ordering])
    stale = timezone.now() - timedelta(days=settings.PREFLIGHT_SKILL_VALID_DAYS + 1)
    SkillRecordFactory(engineer=engineer, skill=ordering, level=4, verified_at=stale)
    low = EngineerFactory(team=team)
    SkillRecordFactory(engineer=low, skill=ordering, level=2)

    release_assign_training(release=published)

    assert set(Assignment.objects.values_list("status", flat=True)) == {"assigned"}


def test_a_release_that_touches_no_skill_exempts_nobody(published, engineer):
    FeatureFactory(release=published, key="docs-only")
    release_assign_training(release=published)
    assert Assignment.objects.get().status == Assignment.Status.ASSIGNED
