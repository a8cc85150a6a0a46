from datetime import UTC, datetime, timedelta

import pytest

from core.actors import Actor
from core.errors import Conflict
from courses.models import Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    LessonFactory,
    QuizFactory,
    ReleaseFactory,
    SdkFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Assignment, Attempt, AuditEvent, LessonProgress
from training.readiness import release_readiness
from training.readiness.policy import release_risks
from training.selectors.access import lead_scope
from training.selectors.leads import (
    EngineerStatus,
    lead_release_get,
    lead_releases_open,
    release_engineer_rows,
    release_steps_total,
    release_team_regions,
)
from training.services.assignments import assignment_cancel

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=30)


@pytest.fixture
def release(sdk):
    return ReleaseFactory(
        sdk=sdk,
        version="2.4.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=NOW + timedelta(days=5),
    )


@pytest.fixture
def course(release):
    course = CourseFactory(release=release, title="RTM 2.4")
    LessonFactory(course=course, position=1)
    LessonFactory(course=course, position=2)
    QuizFactory(course=course)
    return course


def make_engineer(team, username, region="APAC", **kwargs):
    return EngineerFactory(user=UserFactory(username=username), team=team, region=region, **kwargs)


def assign(engineer, course, status=Assignment.Status.ASSIGNED, due_at=None, **kwargs):
    done = status in Assignment.DONE
    return AssignmentFactory(
        engineer=engineer,
        course=course,
        release=course.release,
        reason=kwargs.pop("reason", Assignment.Reason.RELEASE),
        status=status,
        assigned_at=LONG_AGO,
        due_at=due_at or course.release.due_at,
        completed_at=NOW - timedelta(days=1) if done else None,
        **kwargs,
    )


# --- scope ---------------------------------------------------------------------------


def test_a_lead_scope_holds_the_teams_they_lead_and_utc_without_a_profile(lead, team):
    TeamFactory(slug="other")
    scope = lead_scope(user=lead)
    assert [t.slug for t in scope.teams] == ["apac-rtm"]
    assert not scope.is_engineer
    assert str(scope.zone) == "UTC"


def test_a_lead_who_is_also_an_engineer_gets_their_time_zone(lead, team):
    EngineerFactory(user=lead, team=team, timezone="Europe/Berlin")
    assert str(lead_scope(user=lead).zone) == "Europe/Berlin"


def test_an_engineer_who_leads_nothing_has_no_scope(engineer):
    assert lead_scope(user=engineer.user) is None


def test_staff_see_every_team(staff, team, outsider):
    assert {t.slug for t in lead_scope(user=staff).teams} == {"apac-rtm", "emea-web"}


# --- releases ------------------------------------------------------------------------


def test_open_releases_are_published_ones_of_my_sdks_soonest_first(lead, team, sdk, outsider):
    later = ReleaseFactory(
        sdk=sdk, status=Release.Status.PUBLISHED, customer_available_at=NOW + timedelta(days=9)
    )
    sooner = ReleaseFactory(
        sdk=sdk, status=Release.Status.PUBLISHED, customer_available_at=NOW + timedelta(days=2)
    )
    ReleaseFactory(sdk=sdk, status=Release.Status.DRAFT)
    ReleaseFactory(sdk=sdk, status=Release.Status.AVAILABLE)
    ReleaseFactory(sdk=outsider.team.sdks.get(), status=Release.Status.PUBLISHED)
    # A second team of mine on the same SDK must not repeat the release.
    TeamFactory(slug="apac-rtm-2", sdks=[sdk], leads=[lead])
    releases = list(lead_releases_open(scope=lead_scope(user=lead)))
    assert releases == [sooner, later]


def test_a_release_is_found_by_any_spelling_of_its_version_but_only_if_mine(
    lead, team, release, outsider
):
    scope = lead_scope(user=lead)
    assert lead_release_get(scope=scope, sdk="rtm-android", version="v2.4.0") == release
    assert lead_release_get(scope=scope, sdk="rtm-android", version="2.4") is None
    other = lead_scope(user=outsider.team.leads.get())
    assert lead_release_get(scope=other, sdk="rtm-android", version="2.4.0") is None


def test_a_draft_release_has_no_lead_page(lead, team, sdk):
    ReleaseFactory(sdk=sdk, version="3.0.0", status=Release.Status.DRAFT)
    assert lead_release_get(scope=lead_scope(user=lead), sdk=sdk.slug, version="3.0.0") is None


# --- readiness of my teams ----------------------------------------------------------


def test_region_figures_count_only_my_teams_and_match_readiness(lead, team, sdk, release, course):
    other_team = TeamFactory(slug="emea-rtm", sdks=[sdk])
    assign(make_engineer(team, "a1", "APAC"), course, Assignment.Status.COMPLETE)
    assign(make_engineer(team, "a2", "APAC"), course, Assignment.Status.EXEMPT)
    assign(make_engineer(team, "a3", "APAC"), course, due_at=NOW - timedelta(hours=1))
    make_engineer(team, "a4", "AMER")  # in scope, not assigned yet
    make_engineer(team, "gone", "AMER", active=False)
    assign(make_engineer(other_team, "e1", "EMEA"), course, Assignment.Status.COMPLETE)

    mine = release_team_regions(release=release, team_ids=[team.pk], now=NOW)
    assert mine == {
        "APAC": {"required": 3, "complete": 2, "overdue": 1, "percent": 66},
        "AMER": {"required": 1, "complete": 0, "overdue": 0, "percent": 0},
    }
    everyone = release_team_regions(release=release, team_ids=[team.pk, other_team.pk], now=NOW)
    readiness = release_readiness(release, now=NOW)
    assert {r: {k: f[k] for k in ("required", "complete")} for r, f in everyone.items()} == (
        readiness["regions"]
    )
    assert release_team_regions(release=release, team_ids=[], now=NOW) == {}


@pytest.mark.parametrize(
    "due_in,ready,overdue,locked_out,codes",
    [
        (timedelta(hours=-1), False, 0, 0, ["due_passed"]),  # due date passed, not ready
        (timedelta(hours=-1), True, 0, 0, []),  # ready: it can go to customers
        (timedelta(hours=71), False, 0, 0, ["due_soon"]),  # not ready, due within 72 h
        (timedelta(hours=73), False, 0, 0, []),  # more than 72 h left
        (timedelta(hours=200), True, 2, 0, ["engineers_overdue"]),  # ready, yet overdue
        (timedelta(hours=200), False, 0, 1, ["engineers_locked_out"]),
    ],
)
def test_the_at_risk_rule(sdk, due_in, ready, overdue, locked_out, codes, settings):
    release = ReleaseFactory(
        sdk=sdk,
        status=Release.Status.PUBLISHED,
        customer_available_at=NOW + due_in + settings.PREFLIGHT_DUE_LEAD,
    )
    risks = release_risks(release, ready=ready, overdue=overdue, locked_out=locked_out, now=NOW)
    assert [risk["code"] for risk in risks] == codes


def test_the_at_risk_horizon_comes_from_settings(sdk, settings):
    settings.PREFLIGHT_AT_RISK_HOURS = 200
    release = ReleaseFactory(
        sdk=sdk,
        status=Release.Status.PUBLISHED,
        customer_available_at=NOW + timedelta(hours=150) + settings.PREFLIGHT_DUE_LEAD,
    )
    risks = release_risks(release, ready=False, overdue=0, locked_out=0, now=NOW)
    assert risks == [{"code": "due_soon", "params": {"hours": 150}}]


# --- engineers on a release -----------------------------------------------------------


def test_engineers_have_status_progress_attempts_and_last_activity(team, sdk, release, course):
    overdue = make_engineer(team, "olga")
    assign(overdue, course, due_at=NOW - timedelta(hours=3))
    reading = make_engineer(team, "rita", "EMEA")
    a = assign(reading, course, Assignment.Status.IN_PROGRESS)
    read_at = NOW - timedelta(hours=2)
    LessonProgress.objects.create(engineer=reading, lesson=course.lessons.first(), read_at=read_at)
    Attempt.objects.create(
        engineer=reading,
        quiz=course.quiz,
        assignment=a,
        number=1,
        pass_mark=80,
        snapshot={},
        started_at=NOW - timedelta(hours=1),
        submitted_at=NOW - timedelta(minutes=50),
        score=50,
        passed=False,
    )
    waiting = make_engineer(team, "wim")
    assign(waiting, course)
    done = make_engineer(team, "dora")
    assign(done, course, Assignment.Status.COMPLETE)
    exempt = make_engineer(team, "eve")
    assign(exempt, course, Assignment.Status.EXEMPT)
    make_engineer(team, "nina")  # in scope, not assigned yet
    other = make_engineer(TeamFactory(slug="elsewhere", sdks=[sdk]), "zed")
    assign(other, course, due_at=NOW - timedelta(hours=3))

    rows = release_engineer_rows(
        release=release,
        team_ids=[team.pk],
        steps_total=release_steps_total(release=release),
        now=NOW,
    )
    names = [row.username for row in rows]
    by_name = {row.username: row for row in rows}
    assert names[0] == "olga"  # overdue first
    assert {name: row.status for name, row in by_name.items()} == {
        "olga": EngineerStatus.OVERDUE,
        "rita": EngineerStatus.IN_PROGRESS,
        "wim": EngineerStatus.ASSIGNED,
        "dora": EngineerStatus.COMPLETE,
        "eve": EngineerStatus.EXEMPT,
        "nina": EngineerStatus.UNASSIGNED,
    }
    rita = by_name["rita"]
    assert (rita.steps_done, rita.steps_total, rita.percent) == (1, 3, 33)
    assert rita.attempts == 1
    assert rita.last_activity == NOW - timedelta(minutes=50)
    assert by_name["dora"].percent == 100
    assert by_name["wim"].last_activity is None
    assert names[-2:] == ["dora", "eve"]


def test_engineers_filter_by_region_and_status(team, release, course):
    assign(make_engineer(team, "a", "APAC"), course, due_at=NOW - timedelta(hours=3))
    assign(make_engineer(team, "b", "EMEA"), course, due_at=NOW - timedelta(hours=3))
    assign(make_engineer(team, "c", "EMEA"), course, Assignment.Status.COMPLETE)

    def names(**filters):
        rows = release_engineer_rows(
            release=release, team_ids=[team.pk], steps_total=3, now=NOW, **filters
        )
        return sorted(row.username for row in rows)

    assert names(region="EMEA") == ["b", "c"]
    assert names(status="overdue") == ["a", "b"]
    assert names(region="EMEA", status="overdue") == ["b"]
    assert names(status="complete") == ["c"]


def test_the_engineer_list_is_one_query(team, release, course, django_assert_num_queries):
    for i in range(5):
        engineer = make_engineer(team, f"e{i}")
        assignment = assign(engineer, course, Assignment.Status.IN_PROGRESS)
        LessonProgress.objects.create(engineer=engineer, lesson=course.lessons.first(), read_at=NOW)
        attempt(engineer, course.quiz, assignment, passed=True)
    with django_assert_num_queries(1):
        rows = release_engineer_rows(release=release, team_ids=[team.pk], steps_total=3, now=NOW)
    assert len(rows) == 5


def attempt(engineer, quiz, assignment, *, number=1, passed=None, at=NOW):
    """An attempt at `quiz`, graded when `passed` is given, else still open."""
    graded = passed is not None
    return Attempt.objects.create(
        engineer=engineer,
        quiz=quiz,
        assignment=assignment,
        number=number,
        pass_mark=80,
        snapshot={},
        started_at=at - timedelta(minutes=10),
        submitted_at=at if graded else None,
        score=(90 if passed else 50) if graded else None,
        passed=passed,
    )


def test_progress_counts_only_this_releases_lessons_and_quizzes_and_each_once(
    sdk, team, release, course
):
    """Steps are lessons read and quizzes passed, each counted once however many
    attempts it took; another release's reads and attempts count for nothing, and
    neither does their activity."""
    other = CourseFactory(
        release=ReleaseFactory(
            sdk=sdk,
            version="2.5.0",
            status=Release.Status.PUBLISHED,
            customer_available_at=NOW + timedelta(days=5),
        )
    )
    other_lesson = LessonFactory(course=other, position=1)
    other_quiz = QuizFactory(course=other)
    rita = make_engineer(team, "rita")
    mine = assign(rita, course, Assignment.Status.IN_PROGRESS)
    theirs = assign(rita, other, Assignment.Status.IN_PROGRESS)
    LessonProgress.objects.create(engineer=rita, lesson=course.lessons.first(), read_at=LONG_AGO)
    attempt(rita, course.quiz, mine, number=1, passed=False, at=NOW - timedelta(hours=3))
    attempt(rita, course.quiz, mine, number=2, passed=True, at=NOW - timedelta(hours=2))
    attempt(rita, course.quiz, mine, number=3, passed=True, at=NOW - timedelta(hours=1))
    LessonProgress.objects.create(engineer=rita, lesson=other_lesson, read_at=NOW)
    attempt(rita, other_quiz, theirs, passed=True, at=NOW)

    (row,) = release_engineer_rows(
        release=release,
        team_ids=[team.pk],
        steps_total=release_steps_total(release=release),
        now=NOW,
    )
    assert (row.steps_done, row.steps_total, row.percent) == (2, 3, 66)
    assert row.attempts == 3
    assert row.last_activity == NOW - timedelta(hours=1)
    assert row.due_at == release.due_at


def test_an_open_attempt_is_activity_from_its_start(team, release, course):
    rita = make_engineer(team, "rita")
    mine = assign(rita, course, Assignment.Status.IN_PROGRESS)
    attempt(rita, course.quiz, mine, at=NOW - timedelta(minutes=20))

    (row,) = release_engineer_rows(release=release, team_ids=[team.pk], steps_total=3, now=NOW)
    assert (row.steps_done, row.attempts) == (0, 1)
    assert row.last_activity == NOW - timedelta(minutes=30)


def test_engineers_are_ordered_most_overdue_then_least_advanced_then_by_username(
    team, release, course
):
    late = make_engineer(team, "late")
    assign(late, course, due_at=NOW - timedelta(days=2))
    later = make_engineer(team, "later")
    assign(later, course, due_at=NOW - timedelta(days=1))
    ahead, behind, also_behind = (make_engineer(team, name) for name in ("bo", "cy", "al"))
    for engineer in (ahead, behind, also_behind):
        assign(engineer, course, Assignment.Status.IN_PROGRESS)
    for lesson in course.lessons.all():
        LessonProgress.objects.create(engineer=ahead, lesson=lesson, read_at=NOW)
    LessonProgress.objects.create(engineer=behind, lesson=course.lessons.first(), read_at=NOW)
    LessonProgress.objects.create(engineer=also_behind, lesson=course.lessons.first(), read_at=NOW)
    EngineerFactory(user=UserFactory(username="ann", first_name="Ann", last_name="Lee"), team=team)
    EngineerFactory(user=UserFactory(username="nn", first_name="", last_name=""), team=team)

    rows = release_engineer_rows(release=release, team_ids=[team.pk], steps_total=3, now=NOW)
    assert [row.username for row in rows] == ["late", "later", "ann", "nn", "al", "cy", "bo"]
    assert (rows[2].name, rows[2].team, rows[2].region) == ("Ann Lee", team.name, "APAC")
    assert rows[3].name == "nn"  # no name: the username, as Engineer.name gives


# --- cancelling --------------------------------------------------------------------


def test_cancelling_a_lead_assignment_deletes_it_and_audits(lead, engineer, course):
    assignment = assign(engineer, course, reason=Assignment.Reason.LEAD, assigned_by=lead)
    assignment_cancel(assignment=assignment, actor=Actor(user=lead))
    assert not Assignment.objects.filter(pk=assignment.pk).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ASSIGNMENT_CANCELLED)
    assert event.actor == lead
    assert event.release_id == course.release_id
    assert event.details["engineer"] == "alice"
    assert event.details["course"] == course.slug


@pytest.mark.parametrize(
    "reason,status",
    [
        (Assignment.Reason.RELEASE, Assignment.Status.ASSIGNED),
        (Assignment.Reason.ONBOARDING, Assignment.Status.ASSIGNED),
        (Assignment.Reason.LEAD, Assignment.Status.COMPLETE),
    ],
)
def test_only_unfinished_lead_assignments_can_be_cancelled(lead, engineer, course, reason, status):
    assignment = assign(engineer, course, status=status, reason=reason)
    with pytest.raises(Conflict):
        assignment_cancel(assignment=assignment, actor=Actor(user=lead))
    assert Assignment.objects.filter(pk=assignment.pk).exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_CANCELLED).exists()


def test_staff_scope_reaches_releases_of_any_sdk(staff):
    release = ReleaseFactory(sdk=SdkFactory(slug="rtc-ios"), status=Release.Status.PUBLISHED)
    assert list(lead_releases_open(scope=lead_scope(user=staff))) == [release]
