"""Support managers: the people API that makes and removes them, its audit, what a
manager may see (everything) and the managers' console (every region side by side)."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from core.actors import Actor
from courses.models import Release
from tests.factories import CourseFactory, LessonFactory, QuizFactory, ReleaseFactory, UserFactory
from tests.training.test_pages_lead import NOW, _bulk_engineers
from training.models import AuditEvent, SupportManager
from training.selectors.access import sees_everything
from training.selectors.follow_the_sun import shifts_now
from training.services.managers import manager_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(sdk):
    """The release course of rtm-android 2.4.0, as on the lead pages' tests."""
    release = ReleaseFactory(
        sdk=sdk,
        version="2.4.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=NOW + timedelta(days=5),
    )
    course = CourseFactory(slug="rtm-android-2-4", release=release, title="RTM Android 2.4")
    LessonFactory(course=course, position=1)
    QuizFactory(course=course)
    return course


@pytest.fixture
def maya(db):
    return UserFactory(username="maya")


@pytest.fixture
def manager(maya):
    manager_grant(user=maya, actor=Actor())
    return maya


# --- the people API --------------------------------------------------------------------


def test_put_makes_a_user_a_manager_201_then_200(token_client, maya):
    client = token_client("people")
    first = client.put("/api/v1/managers/maya/")
    assert first.status_code == 201
    assert first.json()["username"] == "maya"
    again = client.put("/api/v1/managers/maya/")
    assert again.status_code == 200
    assert SupportManager.objects.filter(user=maya).count() == 1


def test_put_and_delete_for_an_unknown_user_are_404(token_client):
    client = token_client("people")
    assert client.put("/api/v1/managers/nobody/").status_code == 404
    assert client.delete("/api/v1/managers/nobody/").status_code == 404


def test_delete_removes_the_role_and_is_204_again_when_not_a_manager(token_client, manager):
    client = token_client("people")
    assert client.delete("/api/v1/managers/maya/").status_code == 204
    assert not SupportManager.objects.filter(user=manager).exists()
    assert client.delete("/api/v1/managers/maya/").status_code == 204


def test_managers_need_the_people_scope_and_a_credential(token_client, anon, maya):
    assert token_client("releases").put("/api/v1/managers/maya/").status_code == 403
    assert anon.put("/api/v1/managers/maya/").status_code == 401
    assert anon.delete("/api/v1/managers/maya/").status_code == 401


def test_a_manager_cannot_make_another_manager(client, manager):
    UserFactory(username="max")
    client.force_login(manager)
    assert client.put("/api/v1/managers/max/").status_code == 403


def test_grant_and_revoke_are_audited_once_each(token_client, maya):
    client = token_client("people")
    client.put("/api/v1/managers/maya/")
    client.put("/api/v1/managers/maya/")
    client.delete("/api/v1/managers/maya/")
    client.delete("/api/v1/managers/maya/")
    kinds = list(AuditEvent.objects.order_by("id").values_list("kind", "details__user"))
    assert kinds == [
        (AuditEvent.Kind.MANAGER_GRANTED, "maya"),
        (AuditEvent.Kind.MANAGER_REVOKED, "maya"),
    ]


# --- what a manager sees ---------------------------------------------------------------


def test_a_manager_sees_everything_and_an_inactive_one_nothing(manager):
    assert sees_everything(manager)
    manager.is_active = False
    assert not sees_everything(manager)


def test_a_manager_reads_an_emea_engineers_skills_and_an_apac_lead_gets_404(
    client, manager, outsider, lead, team
):
    client.force_login(manager)
    assert client.get("/api/v1/engineers/oscar/skills/").status_code == 200
    client.force_login(lead)
    assert client.get("/api/v1/engineers/oscar/skills/").status_code == 404


def test_a_manager_opens_the_lead_pages_of_every_team(client, manager, outsider):
    client.force_login(manager)
    assert client.get(reverse("lead_home")).status_code == 200
    matrix = client.get(reverse("team_matrix") + "?team=emea-web")
    assert matrix.status_code == 200
    assert "oscar" in matrix.text


def test_a_manager_may_not_cancel_another_leads_assignment(client, manager, engineer, lead):
    from django.utils import timezone

    from training.models import Assignment
    from training.services.assignments import assignments_create_manual

    extra = CourseFactory(slug="extra")
    assignments_create_manual(
        course=extra,
        engineer_ids=[engineer.pk],
        due_at=timezone.now() + timedelta(days=3),
        actor=Actor(user=lead),
    )
    made = Assignment.objects.get(course=extra)
    client.force_login(manager)
    response = client.post(reverse("lead_assignment_cancel", args=[made.pk]))
    assert response.status_code == 404
    assert Assignment.objects.filter(pk=made.pk).exists()


# --- the console -----------------------------------------------------------------------


def test_follow_the_sun_says_who_is_on_shift_and_who_is_next():
    from datetime import UTC, datetime

    now, after = shifts_now(datetime(2030, 1, 10, 12, 0, tzinfo=UTC))
    assert (now.region, after.region) == ("EMEA", "AMER")
    now, after = shifts_now(datetime(2030, 1, 10, 23, 59, tzinfo=UTC))
    assert (now.region, after.region) == ("AMER", "APAC")
    assert after.start == datetime(2030, 1, 11, 0, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_the_console_shows_every_region_in_follow_the_sun_order(client, course, team):
    manager = UserFactory(username="maya")
    manager_grant(user=manager, actor=Actor())
    _bulk_engineers(team, 6, course)
    client.force_login(manager)
    page = client.get(reverse("lead_home")).text
    assert 'data-on-shift="EMEA"' in page and 'data-next-shift="AMER"' in page
    order = [page.index(f'data-region="{region}"') for region in ("APAC", "EMEA", "AMER")]
    assert order == sorted(order)
    assert 'class="sun-region sun-now" data-region="EMEA"' in page


@time_machine.travel(NOW, tick=False)
def test_a_leads_pages_name_the_regions_outside_their_teams(client, course, team, lead, sdk):
    from tests.factories import EngineerFactory, TeamFactory
    from training.models import Assignment

    other = TeamFactory(slug="emea-rtm", sdks=[sdk])
    emea = EngineerFactory(team=other, region="EMEA")
    Assignment.objects.create(
        engineer=emea,
        course=course,
        release=course.release,
        reason=Assignment.Reason.RELEASE,
        assigned_at=NOW,
        due_at=course.release.due_at,
    )
    _bulk_engineers(team, 1, course)  # one APAC engineer of lena's
    client.force_login(lead)
    home = client.get(reverse("lead_home")).text
    assert 'data-outside="EMEA"' in home and "EMEA is outside your teams" in home
    page = client.get(reverse("lead_release", args=["rtm-android", "2.4.0"])).text
    assert "EMEA is outside your teams" in page


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("count", [10, 500])
def test_the_console_query_count_does_not_grow_with_engineers(
    client, team, sdk, course, count, django_assert_max_num_queries
):
    manager = UserFactory(username="maya")
    manager_grant(user=manager, actor=Actor())
    client.force_login(manager)
    ReleaseFactory(sdk=sdk, status=Release.Status.PUBLISHED, version="2.5.0")
    _bulk_engineers(team, count, course)
    # Each release's launch coverage loads in a request of its own (htmx).
    with django_assert_max_num_queries(16):
        response = client.get(reverse("lead_home"))
    assert response.status_code == 200
    assert response.text.count('<li class="sun-region') == 6


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("releases", [1, 8])
def test_the_console_query_count_does_not_grow_with_releases(
    client, team, sdk, course, releases, django_assert_max_num_queries
):
    manager = UserFactory(username="maya")
    manager_grant(user=manager, actor=Actor())
    client.force_login(manager)
    for minor in range(5, 5 + releases):
        ReleaseFactory(sdk=sdk, status=Release.Status.PUBLISHED, version=f"2.{minor}.0")
    _bulk_engineers(team, 5, course)
    assert client.get(reverse("lead_home")).status_code == 200  # counts kept

    with django_assert_max_num_queries(8):
        response = client.get(reverse("lead_home"))

    assert response.status_code == 200
    assert response.text.count('<li class="sun-region') == 3 * (releases + 1)


@time_machine.travel(NOW, tick=False)
def test_a_managers_region_figures_are_the_whole_release_counts(team, sdk, course):
    from tests.factories import EngineerFactory, TeamFactory
    from training.models import Team
    from training.readiness import releases_readiness
    from training.selectors.leads import region_figures, release_team_regions

    TeamFactory(slug="emea-rtm", sdks=[sdk])
    EngineerFactory(team=Team.objects.get(slug="emea-rtm"), region="EMEA")
    _bulk_engineers(team, 7, course)
    release = course.release

    counted = releases_readiness([release])[release.pk]

    every_team = list(Team.objects.values_list("pk", flat=True))
    assert region_figures(counted.counts) == release_team_regions(
        release=release, team_ids=every_team
    )
