import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from courses.models import Course, Release
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    LessonFactory,
    QuizFactory,
    ReleaseFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Assignment, AuditEvent, Engineer

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
    course = CourseFactory(slug="rtm-android-2-4", release=release, title="RTM Android 2.4")
    LessonFactory(course=course, position=1)
    QuizFactory(course=course)
    return course


@pytest.fixture
def lead_client(client, lead, team):
    client.force_login(lead)
    return client


@pytest.fixture
def other_lead(outsider):
    return outsider.team.leads.get()


def release_url(name="lead_release", version="2.4.0"):
    return reverse(name, args=["rtm-android", version])


def make_engineer(team, username, region="APAC"):
    return EngineerFactory(user=UserFactory(username=username), team=team, region=region)


def assign(engineer, course, status=Assignment.Status.ASSIGNED, **kwargs):
    return AssignmentFactory(
        engineer=engineer,
        course=course,
        release=course.release,
        reason=kwargs.pop("reason", Assignment.Reason.RELEASE),
        status=status,
        assigned_at=kwargs.pop("assigned_at", LONG_AGO),
        due_at=kwargs.pop("due_at", course.release.due_at if course.release else NOW),
        completed_at=LONG_AGO if status in Assignment.DONE else None,
        **kwargs,
    )


def relogin(client):
    """Sign the lead in again inside a time travel: a session made before it would
    have expired by then."""
    client.force_login(get_user_model().objects.get(username="lena"))


# --- who may see what ------------------------------------------------------------------


LEAD_PAGES = [
    ("lead_home", []),
    ("lead_assign", []),
    ("lead_release", ["rtm-android", "2.4.0"]),
]


@pytest.mark.parametrize("name,args", LEAD_PAGES)
def test_lead_pages_need_a_session(client, release, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("name,args", LEAD_PAGES)
def test_an_engineer_who_leads_nothing_gets_404_on_every_lead_page(
    client, engineer, release, name, args
):
    client.force_login(engineer.user)
    assert client.get(reverse(name, args=args)).status_code == 404


def test_an_engineer_gets_404_on_the_lead_actions(client, engineer, release, course):
    assignment = assign(engineer, course, reason=Assignment.Reason.LEAD)
    client.force_login(engineer.user)
    assert client.post(reverse("lead_assignment_cancel", args=[assignment.pk])).status_code == 404
    response = client.post(
        release_url("lead_release_availability"), {"override": "1", "reason": "x"}
    )
    assert response.status_code == 404
    assert Assignment.objects.filter(pk=assignment.pk).exists()
    release.refresh_from_db()
    assert release.status == Release.Status.PUBLISHED


def test_a_lead_of_another_team_gets_404_on_my_release_and_its_actions(
    client, other_lead, release, course, engineer
):
    client.force_login(other_lead)
    assert client.get(release_url()).status_code == 404
    response = client.post(
        release_url("lead_release_availability"), {"override": "1", "reason": "x"}
    )
    assert response.status_code == 404
    assignment = assign(engineer, course, reason=Assignment.Reason.LEAD)
    assert client.post(reverse("lead_assignment_cancel", args=[assignment.pk])).status_code == 404
    assert Assignment.objects.filter(pk=assignment.pk).exists()
    assert "rtm-android" not in client.get(reverse("lead_home")).text


def test_an_unknown_release_or_version_is_404(lead_client, release):
    assert lead_client.get(release_url(version="9.9.9")).status_code == 404
    assert lead_client.get(release_url(version="not-a-version")).status_code == 404
    assert lead_client.get(release_url(version="v2.4.0")).status_code == 200


def test_staff_see_every_team(client, staff, release, engineer, outsider):
    client.force_login(staff)
    assert "rtm-android 2.4.0" in client.get(reverse("lead_home")).text
    assert "alice" in client.get(release_url()).text


# --- home and navigation ------------------------------------------------------------


def test_a_lead_without_a_profile_is_sent_from_home_to_the_lead_pages(lead_client):
    response = lead_client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("lead_home")


def test_staff_without_a_profile_are_sent_to_the_lead_pages(client, staff):
    client.force_login(staff)
    assert client.get(reverse("home"))["Location"] == reverse("lead_home")


def test_a_user_who_is_neither_still_sees_the_no_profile_page(client):
    client.force_login(UserFactory(username="nobody"))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "No training profile" in response.text
    assert reverse("lead_home") not in response.text


def test_a_lead_who_is_an_engineer_keeps_the_dashboard_with_a_link_to_the_lead_pages(
    client, lead, team
):
    EngineerFactory(user=lead, team=team)
    client.force_login(lead)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', response.text, re.S).group(1)
    assert f'href="{reverse("lead_home")}"' in nav
    assert f'href="{reverse("lead_assign")}"' in nav
    assert f'href="{reverse("skills")}"' in nav


def test_an_engineer_sees_no_lead_links(client, engineer):
    client.force_login(engineer.user)
    html = client.get(reverse("home")).text
    assert reverse("lead_home") not in html
    assert "Assign training" not in html


def test_a_lead_without_a_profile_sees_lead_links_but_not_my_skills(lead_client):
    html = lead_client.get(reverse("lead_home")).text
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    assert 'aria-current="page">Readiness' in nav
    assert reverse("skills") not in nav


@time_machine.travel(NOW, tick=False)
def test_the_lead_home_shows_readiness_overall_and_per_region(
    lead_client, team, sdk, release, course, outsider
):
    relogin(lead_client)
    assign(make_engineer(team, "a1", "APAC"), course, Assignment.Status.COMPLETE)
    assign(make_engineer(team, "a2", "APAC"), course)
    assign(make_engineer(team, "e1", "EMEA"), course)
    other_team = TeamFactory(slug="amer-rtm", sdks=[sdk])
    assign(make_engineer(other_team, "z1", "AMER"), course, Assignment.Status.COMPLETE)
    ReleaseFactory(sdk=outsider.team.sdks.get(), status=Release.Status.PUBLISHED, version="9.0.0")

    response = lead_client.get(reverse("lead_home"))
    assert response.status_code == 200
    html = response.text
    assert "rtm-android 2.4.0" in html
    assert "9.0.0" not in html
    assert release_url() in html
    # Overall: 2 of 4 engineers (all teams); per region: my team only.
    assert "50%" in html and "(2 of 4 engineers)" in html
    assert "Completion 50% is below 90%" in html
    assert '<svg id="region-chart-' in html and 'role="img"' in html
    assert "APAC 1 of 2 (50%); EMEA 0 of 1 (0%)" in html
    assert 'data-region="AMER"' not in html
    # Due 48 h before the customer date; 72 h out and not ready: at risk (72 h horizon).
    assert "Sun 13 Jan 2030, 12:00 UTC" in html
    assert "Tue 15 Jan 2030, 12:00 UTC" in html
    assert "At risk" in html and "training is due within 72 h and support is not ready" in html


@time_machine.travel(NOW, tick=False)
def test_a_release_past_its_due_date_and_not_ready_shows_at_risk(lead_client, team, sdk):
    relogin(lead_client)
    ReleaseFactory(
        sdk=sdk,
        status=Release.Status.PUBLISHED,
        version="2.5.0",
        customer_available_at=NOW + timedelta(hours=24),
    )
    make_engineer(team, "late")
    html = lead_client.get(reverse("lead_home")).text
    assert "At risk" in html
    assert "the training due date has passed" in html


def test_the_lead_home_shows_times_in_the_leads_own_zone_when_an_engineer(
    client, lead, team, release
):
    EngineerFactory(user=lead, team=team, timezone="Asia/Shanghai")
    client.force_login(lead)
    html = client.get(reverse("lead_home")).text
    assert "Times in Asia/Shanghai." in html
    local = release.customer_available_at.astimezone(Engineer.objects.get(user=lead).zone)
    assert local.strftime("%H:%M CST") in html


# --- the release page --------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_release_page_lists_my_engineers_overdue_first(lead_client, team, sdk, course):
    relogin(lead_client)
    assign(make_engineer(team, "done"), course, Assignment.Status.COMPLETE)
    assign(make_engineer(team, "late", "EMEA"), course, due_at=NOW - timedelta(hours=2))
    assign(make_engineer(team, "busy"), course, Assignment.Status.IN_PROGRESS)
    stranger = make_engineer(TeamFactory(slug="other-rtm", sdks=[sdk]), "stranger")
    assign(stranger, course)

    response = lead_client.get(release_url())
    assert response.status_code == 200
    html = response.text
    rows = re.findall(
        r'<tr class="row-(\w+)">\s*<th scope="row">(?:<a [^>]*>[^<]*</a>)?[^<]*<span[^>]*>(\w+)<',
        html,
    )
    assert rows[0] == ("overdue", "late")
    assert {name for _, name in rows} == {"late", "busy", "done"}
    assert "stranger" not in html
    assert "Your teams per region" in html
    assert "Mark available to customers" not in html  # not ready
    assert "Override the gate and release" in html
    assert reverse("lead_assign") + "?course=rtm-android-2-4" in html


@time_machine.travel(NOW, tick=False)
def test_the_release_page_filters_by_region_and_status(lead_client, team, course):
    relogin(lead_client)
    assign(make_engineer(team, "apaclate", "APAC"), course, due_at=NOW - timedelta(hours=2))
    assign(make_engineer(team, "emealate", "EMEA"), course, due_at=NOW - timedelta(hours=2))
    assign(make_engineer(team, "emeadone", "EMEA"), course, Assignment.Status.COMPLETE)

    html = lead_client.get(release_url(), {"region": "EMEA", "status": "overdue"}).text
    table = html[html.index("engineer-table") :]
    assert "emealate" in table
    assert "apaclate" not in table and "emeadone" not in table
    html = lead_client.get(release_url(), {"status": "complete"}).text
    table = html[html.index("engineer-table") :]
    assert "emeadone" in table and "late" not in table
    html = lead_client.get(release_url(), {"region": "AMER"}).text
    assert "No engineer matches these filters." in html


def test_a_bad_filter_is_a_form_error_not_a_500(lead_client, release):
    response = lead_client.get(release_url(), {"region": "MARS"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.text


# --- the gate and its override -------------------------------------------------------------


def test_an_override_needs_a_reason(lead_client, team, release, course):
    assign(make_engineer(team, "a1"), course)
    response = lead_client.post(
        release_url("lead_release_availability"), {"override": "1", "reason": "   "}
    )
    assert response.status_code == 400
    assert "Give the reason for overriding the gate." in response.text
    assert 'aria-invalid="true"' in response.text
    release.refresh_from_db()
    assert release.status == Release.Status.PUBLISHED
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.RELEASE_OVERRIDE).exists()


def test_a_reason_longer_than_1000_characters_is_refused(lead_client, team, release, course):
    assign(make_engineer(team, "a1"), course)
    response = lead_client.post(
        release_url("lead_release_availability"), {"override": "1", "reason": "x" * 1001}
    )
    assert response.status_code == 400
    release.refresh_from_db()
    assert release.status == Release.Status.PUBLISHED


def test_an_override_is_recorded_and_shown_on_the_release_page(lead, lead_client, team, course):
    assign(make_engineer(team, "a1"), course)
    assign(make_engineer(team, "a2"), course, Assignment.Status.COMPLETE)
    response = lead_client.post(
        release_url("lead_release_availability"),
        {"override": "1", "reason": "Hotfix <for> a crash; the team was briefed live."},
    )
    assert response.status_code == 302
    assert response["Location"] == release_url()
    release = Release.objects.get(version="2.4.0")
    assert release.status == Release.Status.AVAILABLE
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.RELEASE_OVERRIDE)
    assert event.actor == lead
    assert event.details["readiness"]["completion"] == 0.5

    html = lead_client.get(release_url()).text
    overrides = html[html.index('id="overrides"') :]
    assert "Lena Lead (lena)" in overrides
    assert "Hotfix &lt;for&gt; a crash; the team was briefed live." in overrides
    assert "Readiness then: 50% (1 of 2 engineers)." in overrides
    assert "completion 50% is below 90%" in overrides
    assert "Gate overridden" in html
    assert "Available to customers since" in html


def test_a_ready_release_is_marked_available_without_a_reason(lead_client, team, release, course):
    assign(make_engineer(team, "a1"), course, Assignment.Status.COMPLETE)
    html = lead_client.get(release_url()).text
    assert "Mark available to customers" in html
    response = lead_client.post(release_url("lead_release_availability"), {})
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.status == Release.Status.AVAILABLE
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.RELEASE_AVAILABLE).count() == 1
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.RELEASE_OVERRIDE).exists()


def test_marking_a_not_ready_release_available_without_override_says_why(
    lead_client, team, release, course
):
    assign(make_engineer(team, "a1"), course)
    response = lead_client.post(release_url("lead_release_availability"), {}, follow=True)
    assert "Support is not ready" in response.text
    assert "completion 0% is below 90%" in response.text
    release.refresh_from_db()
    assert release.status == Release.Status.PUBLISHED


def test_availability_answers_only_post(lead_client, release):
    assert lead_client.get(release_url("lead_release_availability")).status_code == 405


# --- assigning --------------------------------------------------------------------------


@pytest.fixture
def published_course(db):
    return CourseFactory(slug="push-basics", title="Push basics", status=Course.Status.PUBLISHED)


def test_the_assign_form_preselects_a_course_and_offers_only_published_ones(
    lead_client, team, engineer, published_course
):
    CourseFactory(slug="draft-course", title="Draft course", status=Course.Status.DRAFT)
    html = lead_client.get(reverse("lead_assign"), {"course": "push-basics"}).text
    assert '<option value="push-basics" selected>' in html
    assert "Draft course" not in html
    assert f'name="engineers" value="{engineer.pk}"' in html
    assert 'Alice Chen <span class="muted mono">alice</span>' in html
    assert "In UTC" in html


def test_assigning_to_a_team_and_again_is_idempotent(
    lead, lead_client, team, engineer, published_course
):
    bob = make_engineer(team, "bob")
    make_engineer(TeamFactory(slug="not-mine"), "carol")
    data = {"course": "push-basics", "teams": [team.pk], "due_at": "2099-03-01T09:00"}
    response = lead_client.post(reverse("lead_assign"), data, follow=True)
    assert "Push basics: created 2, already had 0." in response.text
    assigned = Assignment.objects.filter(course=published_course)
    assert {a.engineer for a in assigned} == {engineer, bob}
    assert all(a.reason == Assignment.Reason.LEAD and a.assigned_by == lead for a in assigned)
    assert assigned[0].due_at == datetime(2099, 3, 1, 9, 0, tzinfo=UTC)

    response = lead_client.post(
        reverse("lead_assign"),
        {**data, "engineers": [engineer.pk]},
        follow=True,
    )
    assert "Push basics: created 0, already had 2." in response.text
    assert assigned.count() == 2
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_MANUAL).count() == 2


def test_the_due_date_is_read_in_the_leads_time_zone_when_an_engineer(
    client, lead, team, published_course
):
    EngineerFactory(user=lead, team=team, timezone="Asia/Shanghai")
    client.force_login(lead)
    assert "In your time zone, Asia/Shanghai." in client.get(reverse("lead_assign")).text
    client.post(
        reverse("lead_assign"),
        {"course": "push-basics", "teams": [team.pk], "due_at": "2099-03-01T09:00"},
    )
    assignment = Assignment.objects.get(course=published_course)
    assert assignment.due_at == datetime(2099, 3, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"due_at": "2001-01-01T09:00"}, "The due date must be in the future."),
        (
            {"teams": [], "engineers": []},
            "Choose at least one engineer or team, or everyone matching the search.",
        ),
        ({"course": "draft-course"}, "Select a valid choice"),
        ({"due_at": "tomorrow"}, "Enter a valid date/time."),
    ],
)
def test_invalid_assignments_are_form_errors_and_write_nothing(
    lead_client, team, engineer, published_course, data, message
):
    CourseFactory(slug="draft-course", status=Course.Status.DRAFT)
    body = {"course": "push-basics", "teams": [team.pk], "due_at": "2099-03-01T09:00", **data}
    response = lead_client.post(reverse("lead_assign"), body)
    assert response.status_code == 400
    assert message in response.text
    assert not Assignment.objects.exists()
    assert not AuditEvent.objects.exists()


def test_another_teams_engineer_or_team_cannot_be_chosen(
    lead_client, team, published_course, outsider
):
    body = {"course": "push-basics", "due_at": "2099-03-01T09:00"}
    response = lead_client.post(reverse("lead_assign"), {**body, "engineers": [outsider.pk]})
    assert response.status_code == 400
    response = lead_client.post(reverse("lead_assign"), {**body, "teams": [outsider.team.pk]})
    assert response.status_code == 400
    assert not Assignment.objects.exists()


def test_a_team_without_active_engineers_is_a_form_error(lead_client, team, published_course):
    response = lead_client.post(
        reverse("lead_assign"),
        {"course": "push-basics", "teams": [team.pk], "due_at": "2099-03-01T09:00"},
    )
    assert response.status_code == 400
    assert "Name at least one engineer or a team with engineers." in response.text


# --- cancelling ----------------------------------------------------------------------


def test_a_lead_cancels_a_lead_made_assignment(lead, lead_client, engineer, published_course):
    assignment = assign(engineer, published_course, reason=Assignment.Reason.LEAD)
    html = lead_client.get(reverse("lead_assign")).text
    assert reverse("lead_assignment_cancel", args=[assignment.pk]) in html
    response = lead_client.post(
        reverse("lead_assignment_cancel", args=[assignment.pk]), follow=True
    )
    assert "Cancelled Push basics for Alice Chen." in response.text
    assert not Assignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.ASSIGNMENT_CANCELLED).actor == lead


def test_release_training_cannot_be_cancelled(lead_client, engineer, course):
    assignment = assign(engineer, course)
    response = lead_client.post(
        reverse("lead_assignment_cancel", args=[assignment.pk]), follow=True
    )
    assert "Only an assignment a lead made can be cancelled" in response.text
    assert Assignment.objects.filter(pk=assignment.pk).exists()


def test_cancel_answers_only_post_and_never_redirects_off_site(
    lead_client, engineer, published_course
):
    assignment = assign(engineer, published_course, reason=Assignment.Reason.LEAD)
    url = reverse("lead_assignment_cancel", args=[assignment.pk])
    assert lead_client.get(url).status_code == 405
    response = lead_client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("lead_assign")


# --- query counts ---------------------------------------------------------------------


def _bulk_engineers(team, count: int, course: Course) -> None:
    """`count` engineers of `team` across the regions, each holding the release
    course in some state: bulk_create, so 500 take a moment, not a minute."""
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"bulk{i:04d}", first_name="Bulk", last_name=str(i)) for i in range(count)]
    )
    regions = ["APAC", "EMEA", "AMER"]
    engineers = Engineer.objects.bulk_create(
        [
            Engineer(user=user, team=team, region=regions[i % 3], calendar_token=f"tok{i}")
            for i, user in enumerate(users)
        ]
    )
    statuses = [
        Assignment.Status.ASSIGNED,
        Assignment.Status.IN_PROGRESS,
        Assignment.Status.COMPLETE,
    ]
    Assignment.objects.bulk_create(
        [
            Assignment(
                engineer=engineer,
                course=course,
                release=course.release,
                reason=Assignment.Reason.RELEASE,
                status=statuses[i % 3],
                assigned_at=LONG_AGO,
                due_at=NOW - timedelta(hours=1) if i % 5 == 0 else course.release.due_at,
                completed_at=LONG_AGO if statuses[i % 3] == Assignment.Status.COMPLETE else None,
            )
            for i, engineer in enumerate(engineers)
        ]
    )


# session, user, support manager?, teams, zone, releases; per release: the readiness
# snapshot (with, when it has changed, the count and its storing), the release's
# unfinished courses and the team regions
LEAD_HOME_MAX_QUERIES = 16
# 13 (one of them: is the user a support manager), and the count and its storing when
# readiness changed, and the launch coverage (its engineers with their shifts and time off)
RELEASE_PAGE_MAX_QUERIES = 16


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("count", [10, 500])
def test_the_lead_home_query_count_does_not_grow_with_engineers(
    lead_client, team, sdk, course, count, django_assert_max_num_queries
):
    relogin(lead_client)
    ReleaseFactory(sdk=sdk, status=Release.Status.PUBLISHED, version="2.5.0")
    _bulk_engineers(team, count, course)
    with django_assert_max_num_queries(LEAD_HOME_MAX_QUERIES):
        response = lead_client.get(reverse("lead_home"))
    assert response.status_code == 200
    assert response.text.count('class="release-card') == 2


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("count", [10, 500])
def test_the_release_page_query_count_does_not_grow_with_engineers(
    lead_client, team, course, count, django_assert_max_num_queries
):
    relogin(lead_client)
    _bulk_engineers(team, count, course)
    with django_assert_max_num_queries(RELEASE_PAGE_MAX_QUERIES):
        response = lead_client.get(release_url())
    assert response.status_code == 200
    # One page of the table, and the count of all of them.
    assert response.text.count('<tr class="row-') == min(count, 50)
    assert f'<span class="count">{count}</span>' in response.text
    with django_assert_max_num_queries(RELEASE_PAGE_MAX_QUERIES):
        response = lead_client.get(release_url(), {"q": "eng", "region": "APAC", "page": 10**6})
    assert response.status_code == 200
