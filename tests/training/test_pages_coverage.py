"""Coverage on the pages: the heat map, its gaps with suggestions and the assign
action, the expert finder, the managers' console strip; shift and time off forms
for the engineer and their lead."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.actors import Actor
from courses.models import Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    QuizFactory,
    ReleaseFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Assignment, AuditEvent, TimeOff
from training.services.managers import manager_grant

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # Monday 11:00 in Shanghai


@pytest.fixture
def release(sdk):
    release = ReleaseFactory(
        sdk=sdk,
        version="2.4.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=datetime(2026, 6, 3, 1, tzinfo=UTC),  # Wednesday 09:00 Shanghai
    )
    QuizFactory(course=CourseFactory(slug="rtm-android-2-4-0", release=release))
    return release


def release_url():
    return reverse("lead_release", args=["rtm-android", "2.4.0"])


def engineer(team, username, *, zone="Asia/Shanghai", region="APAC", tier="L1"):
    return EngineerFactory(
        team=team,
        region=region,
        timezone=zone,
        tier=tier,
        user=UserFactory(username=username, first_name=username.title(), last_name=""),
    )


def assign(release, who, status=Assignment.Status.ASSIGNED):
    return AssignmentFactory(
        engineer=who,
        course=release.courses.get(),
        reason=Assignment.Reason.RELEASE,
        status=status,
        completed_at=timezone.now() if status == Assignment.Status.COMPLETE else None,
        due_at=timezone.now() + timedelta(days=1),
    )


@time_machine.travel(NOW, tick=False)
@override_settings(PREFLIGHT_COVERAGE_HOURS=24)
def test_the_release_page_shows_the_heat_map_gaps_and_who_to_assign(client, lead, team, release):
    ready = engineer(team, "ready")
    assign(release, ready, Assignment.Status.COMPLETE)
    nudgeable = engineer(team, "slow")
    assign(release, nudgeable)
    engineer(team, "newhire")  # in scope, no training yet
    client.force_login(lead)
    page = client.get(release_url()).text
    assert 'class="coverage-map"' in page
    assert 'data-region="APAC"' in page
    # 09:00-18:00 Shanghai is covered (green); the evening is a gap, outlined.
    assert page.count("cov cov-2") == 9
    assert "cov-gap" in page
    assert "Ready: Ready" in page and "Not ready: Newhire, Slow" in page
    # The gap after 18:00 Shanghai: nobody of the team is on shift, no suggestion.
    assert "Nobody of your teams is on shift then" in page


@time_machine.travel(NOW, tick=False)
@override_settings(PREFLIGHT_COVERAGE_HOURS=24, PREFLIGHT_MIN_READY_ON_SHIFT=2)
def test_a_gap_suggests_the_engineers_on_shift_who_are_not_ready(client, lead, team, release):
    assign(release, engineer(team, "ready"), Assignment.Status.COMPLETE)
    slow = assign(release, engineer(team, "slow"))
    newhire = engineer(team, "newhire")
    client.force_login(lead)
    page = client.get(release_url()).text
    assert reverse("lead_assignment_nudge", args=[slow.pk]) in page
    assert f'name="engineer" value="{newhire.pk}"' in page
    assert "Assign the training to Newhire" in page

    response = client.post(
        reverse("lead_coverage_assign", args=["rtm-android", "2.4.0"]),
        {"engineer": newhire.pk},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#coverage")
    assert Assignment.objects.filter(
        engineer=newhire, release=release, reason=Assignment.Reason.RELEASE
    ).exists()


@time_machine.travel(NOW, tick=False)
def test_assigning_from_a_gap_refuses_an_engineer_outside_my_teams(client, lead, team, release):
    stranger = engineer(TeamFactory(slug="other", sdks=[release.sdk]), "stranger")
    client.force_login(lead)
    url = reverse("lead_coverage_assign", args=["rtm-android", "2.4.0"])
    assert client.post(url, {"engineer": stranger.pk}).status_code == 404
    assert client.post(url, {"engineer": "x\x00"}).status_code == 404
    assert not Assignment.objects.filter(engineer=stranger).exists()


@time_machine.travel(NOW, tick=False)
def test_the_expert_finder_lists_experts_on_shift_now_and_who_comes_next(
    client, lead, team, release
):
    engineer(team, "shanghai", tier="L3")  # 11:00 local, seven hours left
    engineer(team, "berlin", zone="Europe/Berlin", region="EMEA", tier="L3")  # 05:00 local
    engineer(team, "plain")
    client.force_login(lead)
    page = client.get(release_url()).text
    finder = page[page.index('id="experts-now"') :]
    finder = finder[: finder.index("</section>")]
    assert "Shanghai" in finder and "11:00 local (Asia/Shanghai)" in finder
    assert "7 hours left on shift" in finder
    assert "Coming on next:" in finder and "Berlin" in finder.split("Coming on next:")[1]
    assert "Plain" not in finder


@time_machine.travel(NOW, tick=False)
@override_settings(PREFLIGHT_COVERAGE_HOURS=24)
def test_the_managers_console_shows_each_releases_coverage(client, team, release):
    assign(release, engineer(team, "ready"), Assignment.Status.COMPLETE)
    manager = UserFactory(username="maya")
    manager_grant(user=manager, actor=Actor())
    client.force_login(manager)
    console = client.get(reverse("lead_home")).text
    strip_url = reverse("lead_release_coverage_strip", args=["rtm-android", "2.4.0"])
    # The console asks for each release's strip after the page (htmx).
    assert f'hx-get="{strip_url}"' in console

    page = client.get(strip_url).text
    assert 'class="coverage-map coverage-map-compact"' in page
    assert "1 gap" in page


def test_only_the_managers_console_loads_every_teams_coverage(client, lead, team, release):
    client.force_login(lead)
    url = reverse("lead_release_coverage_strip", args=["rtm-android", "2.4.0"])
    assert client.get(url).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_an_engineer_sets_their_own_night_shift_and_time_off(client, engineer_user_team):
    me, user = engineer_user_team
    client.force_login(user)
    assert client.get(reverse("my_shift")).status_code == 200
    response = client.post(
        reverse("my_shift"),
        {"action": "shift", "days": ["mon", "tue"], "start": "22:00", "end": "06:00"},
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert (me.shift_days, me.shift_start, me.shift_end) == (3, time(22), time(6))
    client.post(
        reverse("my_shift"), {"action": "time_off_add", "start": "2026-12-20", "end": "2026-12-27"}
    )
    assert list(TimeOff.objects.filter(engineer=me).values_list("start", "end")) == [
        (date(2026, 12, 20), date(2026, 12, 27))
    ]
    bad = client.post(
        reverse("my_shift"), {"action": "time_off_add", "start": "2026-12-27", "end": "2026-12-20"}
    )
    assert bad.status_code == 400 and "cannot end before it starts" in bad.text
    same = client.post(
        reverse("my_shift"), {"action": "shift", "days": ["mon"], "start": "09:00", "end": "09:00"}
    )
    assert same.status_code == 400
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ENGINEER_SHIFT).count() == 1


@pytest.fixture
def engineer_user_team(team):
    user = UserFactory(username="alice")
    return EngineerFactory(user=user, team=team), user


def test_a_lead_sets_the_shift_of_an_engineer_of_their_team_only(client, lead, team, outsider):
    mine = engineer(team, "mine")
    other = engineer(TeamFactory(slug="other"), "other")
    client.force_login(lead)
    response = client.post(
        reverse("lead_engineer_shift", args=["mine"]),
        {"action": "shift", "days": ["sat", "sun"], "start": "08:00", "end": "20:00"},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.shift_days == 96
    assert "Works sat, sun, 08:00 to 20:00" in client.get(
        reverse("lead_engineer", args=["mine"])
    ).text.replace("\n", " ")
    response = client.post(
        reverse("lead_engineer_shift", args=["other"]),
        {"action": "shift", "default": "on"},
    )
    assert response.status_code == 404
    other.refresh_from_db()
