"""Follow-the-sun coverage of a release's launch window: shifts in local time
across DST, night shifts, time off, weekends; the coverage_gap reason and the gate."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.actors import SYSTEM
from core.errors import Conflict
from courses.models import Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    FeatureFactory,
    QuizFactory,
    ReleaseFactory,
    SkillFactory,
    SkillRecordFactory,
)
from training.models import Assignment, TimeOff
from training.readiness import release_readiness, release_readiness_fresh
from training.readiness.coverage import release_coverage
from training.services.releases import release_mark_available
from training.services.shifts import engineer_shift_set, shift_parse
from training.shifts import ShiftPattern, days_mask, shift_day_at, shift_now

pytestmark = pytest.mark.django_db

ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def release(sdk):
    release = ReleaseFactory(
        sdk=sdk,
        version="2.4.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=utc(2026, 6, 1, 0),  # a Monday
    )
    QuizFactory(course=CourseFactory(slug="rtm-android-2-4-0", release=release))
    return release


def engineer_on(team, *, zone="UTC", region="EMEA", shift=None, tier="L1"):
    engineer = EngineerFactory(team=team, timezone=zone, region=region, tier=tier)
    if shift is not None:
        engineer_shift_set(engineer=engineer, shift=shift_parse(shift), actor=SYSTEM)
    return engineer


def complete(release, engineer):
    now = timezone.now()
    return AssignmentFactory(
        engineer=engineer,
        course=release.courses.get(),
        reason=Assignment.Reason.RELEASE,
        status=Assignment.Status.COMPLETE,
        completed_at=now,
        due_at=now + timedelta(days=1),
    )


def on_shift_hours(coverage) -> list[datetime]:
    return [hour["start"] for hour in coverage["hours"] if hour["on_shift"]]


def hours(day: datetime, first: int, last: int) -> list[datetime]:
    return [day + timedelta(hours=h) for h in range(first, last)]


# --- the rules of a shift ---------------------------------------------------------


def test_a_night_shift_belongs_to_the_day_it_starts_on():
    night = ShiftPattern(days_mask(["mon"]), time(22), time(6))
    assert shift_day_at(night, datetime(2026, 6, 1, 23)) == date(2026, 6, 1)  # Monday night
    assert shift_day_at(night, datetime(2026, 6, 2, 5)) == date(2026, 6, 1)  # Tuesday early
    assert shift_day_at(night, datetime(2026, 6, 2, 6)) is None
    assert shift_day_at(night, datetime(2026, 6, 1, 3)) is None  # Sunday's would-be night


def test_shift_now_says_when_it_ends_and_when_the_next_starts():
    office = ShiftPattern(days_mask(["mon", "tue", "wed", "thu", "fri"]), time(9), time(18))
    on = shift_now(office, "Europe/Berlin", utc(2026, 6, 1, 10))  # 12:00 CEST, Monday
    assert on.on and on.ends_at == utc(2026, 6, 1, 16)
    friday_night = shift_now(office, "Europe/Berlin", utc(2026, 6, 5, 20))
    assert not friday_night.on and friday_night.next_start == utc(2026, 6, 8, 7)  # Monday


# --- coverage over the window -----------------------------------------------------


@override_settings(PREFLIGHT_COVERAGE_HOURS=72)
def test_us_dst_inside_the_window_moves_new_york_an_hour_earlier_in_utc(sdk, team):
    # Saturday 7 March 2026 12:00 UTC: America switches on Sunday 8 March, Europe not.
    release = ReleaseFactory(
        sdk=sdk, status=Release.Status.PUBLISHED, customer_available_at=utc(2026, 3, 7, 12)
    )
    engineer_on(team, zone="America/New_York", region="AMER")  # the region's default
    coverage = release_coverage(release, now=utc(2026, 3, 1))
    # The weekend is off; Monday 9 March 09:00-18:00 EDT is 13:00-22:00 UTC (not 14-23).
    assert on_shift_hours(coverage) == hours(utc(2026, 3, 9), 13, 22)


@override_settings(PREFLIGHT_COVERAGE_HOURS=72)
def test_eu_dst_inside_the_window_moves_berlin_an_hour_earlier_in_utc(sdk, team):
    # Saturday 28 March 2026: Europe switches on Sunday 29 March (America already has).
    release = ReleaseFactory(
        sdk=sdk, status=Release.Status.PUBLISHED, customer_available_at=utc(2026, 3, 28, 0)
    )
    engineer_on(
        team, zone="Europe/Berlin", shift={"days": ALL_DAYS, "start": "09:00", "end": "18:00"}
    )
    engineer_on(team, zone="America/New_York", region="AMER")
    coverage = release_coverage(release, now=utc(2026, 3, 1))
    regions = coverage["regions"]
    berlin = [coverage["hours"][i]["start"] for i, c in enumerate(regions["EMEA"]) if c["on_shift"]]
    assert berlin == (
        hours(utc(2026, 3, 28), 8, 17)  # CET: UTC+1
        + hours(utc(2026, 3, 29), 7, 16)  # CEST from 29 March: UTC+2
        + hours(utc(2026, 3, 30), 7, 16)
    )
    new_york = [
        coverage["hours"][i]["start"] for i, c in enumerate(regions["AMER"]) if c["on_shift"]
    ]
    assert new_york == hours(utc(2026, 3, 30), 13, 22)  # Monday only, EDT


@override_settings(PREFLIGHT_COVERAGE_HOURS=72)
def test_a_window_over_a_weekend_has_no_office_hours_on_saturday_and_sunday(sdk, team):
    release = ReleaseFactory(
        sdk=sdk, status=Release.Status.PUBLISHED, customer_available_at=utc(2026, 6, 5, 12)
    )  # Friday 12:00 UTC to Monday 12:00 UTC
    engineer_on(team, zone="UTC")
    coverage = release_coverage(release, now=utc(2026, 6, 1))
    assert on_shift_hours(coverage) == hours(utc(2026, 6, 5), 12, 18) + hours(
        utc(2026, 6, 8), 9, 12
    )
    assert coverage["gaps"][0] == {
        "start": utc(2026, 6, 5, 12),
        "end": utc(2026, 6, 8, 12),
        "ready": 0,
        "experts": 0,
    }


@override_settings(PREFLIGHT_COVERAGE_HOURS=48)
def test_a_night_shift_crossing_midnight_covers_the_small_hours(release, team):
    night = engineer_on(team, shift={"days": ["mon"], "start": "22:00", "end": "06:00"})
    complete(release, night)
    coverage = release_coverage(release, now=utc(2026, 5, 1))
    assert on_shift_hours(coverage) == hours(utc(2026, 6, 1), 22, 30)  # Mon 22:00-Tue 06:00
    assert [hour["ready"] for hour in coverage["hours"]][22:30] == [1] * 8
    # Monday's small hours belong to Sunday's night shift, which there is not.
    assert coverage["hours"][2]["on_shift"] == 0


@override_settings(PREFLIGHT_COVERAGE_HOURS=48)
def test_time_off_takes_the_engineer_off_the_days_it_names(release, team):
    shift = {"days": ALL_DAYS, "start": "22:00", "end": "06:00"}
    away, there = engineer_on(team, shift=shift), engineer_on(team, shift=shift)
    complete(release, away)
    complete(release, there)
    # Monday off: Monday night's shift (into Tuesday) is off too; Sunday night's is not.
    TimeOff.objects.create(engineer=away, start=date(2026, 6, 1), end=date(2026, 6, 1))
    TimeOff.objects.create(engineer=away, start=date(2025, 1, 1), end=date(2025, 1, 2))
    coverage = release_coverage(release, now=utc(2026, 5, 1))
    ready = [hour["ready"] for hour in coverage["hours"]]
    assert ready[0:6] == [2] * 6  # Sunday night, into Monday
    assert ready[22:30] == [1] * 8  # Monday night: one away
    assert ready[46:48] == [2] * 2  # Tuesday night


@override_settings(PREFLIGHT_COVERAGE_HOURS=24)
def test_experts_are_l3_or_level_4_in_a_release_skill(release, team):
    skill = SkillFactory(slug="reconnection")
    FeatureFactory(release=release, key="reconnect", skills=[skill])
    day = {"days": ALL_DAYS, "start": "09:00", "end": "18:00"}
    engineer_on(team, shift=day, tier="L3")
    skilled = engineer_on(team, shift=day)
    SkillRecordFactory(engineer=skilled, skill=skill, level=4)
    other = engineer_on(team, shift=day)
    SkillRecordFactory(engineer=other, skill=SkillFactory(slug="push"), level=4)
    stale = engineer_on(team, shift=day)
    SkillRecordFactory(
        engineer=stale, skill=skill, level=4, verified_at=timezone.now() - timedelta(days=400)
    )
    coverage = release_coverage(release, now=timezone.now())
    assert coverage["hours"][9] == {
        "start": utc(2026, 6, 1, 9),
        "on_shift": 4,
        "ready": 0,
        "experts": 2,
    }


def test_coverage_reads_in_one_query_whatever_the_team(release, team):
    for _ in range(5):
        complete(release, engineer_on(team))
    TimeOff.objects.create(
        engineer=team.engineers.first(), start=date(2026, 6, 1), end=date(2026, 6, 2)
    )
    with CaptureQueriesContext(connection) as queries:
        release_coverage(release, now=utc(2026, 5, 1))
    assert len(queries) == 1


# --- policy and gate --------------------------------------------------------------


@override_settings(PREFLIGHT_COVERAGE_HOURS=10, PREFLIGHT_MIN_READY_ON_SHIFT=0)
def test_with_the_policy_off_readiness_ignores_coverage(release, team):
    complete(release, engineer_on(team, zone="Asia/Shanghai", region="APAC"))
    assert release_readiness_fresh(release)["ready"]


@override_settings(PREFLIGHT_COVERAGE_HOURS=10, PREFLIGHT_MIN_READY_ON_SHIFT=1)
def test_the_gate_refuses_an_uncovered_hour_and_opens_when_one_more_is_on_shift(release, team):
    # Monday 1 June 01:00 UTC = 09:00 in Shanghai: APAC covers 01:00-10:00 UTC; the
    # tenth hour, 10:00 UTC (18:00 in Shanghai), has nobody ready on shift.
    release.customer_available_at = utc(2026, 6, 1, 1)
    release.save()
    complete(release, engineer_on(team, zone="Asia/Shanghai", region="APAC"))
    readiness = release_readiness_fresh(release)
    assert not readiness["ready"]
    assert readiness["reasons"] == [
        {
            "code": "coverage_gap",
            "params": {"hours": [{"start": "2026-06-01T10:00:00Z", "end": "2026-06-01T11:00:00Z"}]},
        }
    ]
    assert "too few ready people on shift" in readiness["blocking"][0]
    with pytest.raises(Conflict) as refused:
        release_mark_available(release=release, actor=SYSTEM)
    assert refused.value.extra["reasons"][0]["code"] == "coverage_gap"

    # One more ready engineer, in Berlin (09:00-18:00 CEST = 07:00-16:00 UTC).
    complete(release, engineer_on(team, zone="Europe/Berlin", region="EMEA"))
    release = release_mark_available(release=release, actor=SYSTEM)
    assert release.status == Release.Status.AVAILABLE


@override_settings(PREFLIGHT_COVERAGE_HOURS=10, PREFLIGHT_MIN_EXPERTS_ON_SHIFT=1)
def test_the_expert_minimum_names_hours_without_an_expert(release, team):
    release.customer_available_at = utc(2026, 6, 1, 1)
    release.save()
    complete(release, engineer_on(team, zone="Asia/Shanghai", region="APAC", tier="L3"))
    complete(release, engineer_on(team, zone="Europe/Berlin"))
    reasons = release_readiness_fresh(release)["reasons"]
    assert reasons[0]["params"]["hours"] == [
        {"start": "2026-06-01T10:00:00Z", "end": "2026-06-01T11:00:00Z"}
    ]


@override_settings(
    PREFLIGHT_COVERAGE_HOURS=10, PREFLIGHT_MIN_READY_ON_SHIFT=1, PREFLIGHT_AT_RISK_HOURS=72
)
def test_a_gap_within_the_at_risk_horizon_puts_the_release_at_risk(release, team):
    release.customer_available_at = timezone.now().replace(
        minute=0, second=0, microsecond=0
    ) + timedelta(days=7)
    release.save()
    far = release_readiness(release)
    assert not far["at_risk"]  # nobody on shift, but a week away (and due in five days)
    assert not far["ready"]
    release.customer_available_at = timezone.now() + timedelta(hours=30)
    release.save()
    near = release_readiness(release)
    assert near["at_risk"]
    assert "coverage_gap_soon" in [risk["code"] for risk in near["risks"]]


def test_a_customer_date_at_the_end_of_the_calendar_still_has_a_window(sdk, team):
    release = ReleaseFactory(
        sdk=sdk, status=Release.Status.PUBLISHED, customer_available_at=utc(9999, 12, 31, 23)
    )
    engineer_on(team, zone="Pacific/Kiritimati")
    coverage = release_coverage(release, now=utc(2026, 1, 1))
    assert 1 <= len(coverage["hours"]) <= 72
    assert coverage["window_end"] == coverage["hours"][-1]["start"] + timedelta(hours=1)


def test_a_customer_date_early_in_the_calendar_has_a_window(sdk, team):
    release = ReleaseFactory(
        sdk=sdk, status=Release.Status.PUBLISHED, customer_available_at=utc(1000, 1, 3, 0)
    )
    engineer_on(team, zone="Pacific/Pago_Pago")
    assert len(release_coverage(release, now=utc(2026, 1, 1))["hours"]) == 72
