"""A lead steers a release in a real browser: readiness per region, assigning a
course to a team, overriding the gate; another team's lead gets a 404."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

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
from training.models import Assignment, AuditEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"

PEOPLE = [
    # username, first, last, region, status
    ("alice", "Alice", "Chen", "APAC", "complete"),
    ("bao", "Bao", "Nguyen", "APAC", "in_progress"),
    ("chen", "Chen", "Wei", "APAC", "overdue"),
    ("dana", "Dana", "Fischer", "EMEA", "complete"),
    ("emil", "Emil", "Berg", "EMEA", "assigned"),
    ("fran", "Fran", "Lopez", "AMER", "assigned"),
]


def sign_in(page, live_server, username):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def world(lead, team, sdk):
    now = timezone.now()
    release = ReleaseFactory(
        sdk=sdk,
        version="2.4.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=now + timedelta(days=4),
    )
    course = CourseFactory(slug="rtm-android-2-4", release=release, title="RTM Android 2.4")
    for position in (1, 2):
        LessonFactory(course=course, position=position)
    QuizFactory(course=course)
    for username, first, last, region, status in PEOPLE:
        engineer = EngineerFactory(
            user=UserFactory(username=username, first_name=first, last_name=last),
            team=team,
            region=region,
        )
        done = status == "complete"
        AssignmentFactory(
            engineer=engineer,
            course=course,
            reason=Assignment.Reason.RELEASE,
            status=Assignment.Status.ASSIGNED if status == "overdue" else status,
            assigned_at=now - timedelta(days=10),
            due_at=now - timedelta(hours=6) if status == "overdue" else release.due_at,
            completed_at=now - timedelta(days=1) if done else None,
        )
    CourseFactory(slug="push-basics", title="Push basics", status=Course.Status.PUBLISHED)
    other_lead = UserFactory(username="olaf")
    TeamFactory(slug="emea-web", name="EMEA Web", leads=[other_lead])
    return release


def test_a_lead_sees_readiness_assigns_a_course_and_overrides_the_gate(
    page, live_server, world, screenshot
):
    # A lead without an engineer profile lands on the readiness page.
    sign_in(page, live_server, "lena")
    page.wait_for_url(live_server.url + "/lead/")
    card = page.locator(".release-card", has_text="rtm-android 2.4.0")
    card.wait_for()
    assert "Not ready" in card.inner_text()
    assert "33%" in card.inner_text()  # 2 of 6 complete
    chart = card.locator("svg[role=img]")
    title = chart.locator("title").text_content()  # an SVG node: no inner_text
    assert "APAC 1 of 3 (33%); EMEA 1 of 2 (50%); AMER 0 of 1 (0%)" in title
    screenshot(page, "lead-home")

    # The release page: per region, and the engineers overdue first.
    card.get_by_role("link", name="rtm-android 2.4.0").click()
    page.get_by_role("heading", level=1, name=re.compile("rtm-android 2.4.0")).wait_for()
    regions = page.locator(".region-table")
    assert regions.get_by_role("row", name=re.compile(r"^APAC 1 \(33%\) 3 1$")).count() == 1
    assert regions.get_by_role("row", name=re.compile(r"^EMEA 1 \(50%\) 2 0$")).count() == 1
    assert regions.get_by_role("row", name=re.compile(r"^AMER 0 \(0%\) 1 0$")).count() == 1
    first = page.locator(".engineer-table tbody tr").first
    assert "Chen Wei" in first.inner_text() and "Overdue" in first.inner_text()
    screenshot(page, "lead-release")

    # Filter: EMEA only.
    page.get_by_label("Region", exact=True).select_option("EMEA")
    page.get_by_role("search", name="Search and filter engineers").get_by_role(
        "button", name="Search"
    ).click()
    page.wait_for_url(re.compile(r"region=EMEA"))
    rows = page.locator(".engineer-table tbody tr")
    assert rows.count() == 2
    assert "Dana Fischer" in rows.all_inner_texts()[-1]

    # Assign a course to the whole team.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Assign training").click()
    page.get_by_label("Course").select_option(label="Push basics")
    page.get_by_role("group", name="Whole teams").get_by_label("APAC RTM (apac-rtm)").check()
    due = (timezone.now() + timedelta(days=7)).strftime("%Y-%m-%dT09:00")
    page.get_by_label("Due").fill(due)
    page.get_by_role("button", name="Assign", exact=True).click()
    page.get_by_text("Push basics: created 6, already had 0.").wait_for()
    assert page.locator("table", has_text="Push basics").locator("tbody tr").count() == 6
    screenshot(page, "lead-assign")
    assert Assignment.objects.filter(course__slug="push-basics").count() == 6

    # The gate: an override needs a reason, then is kept and shown.
    page.goto(live_server.url + "/lead/releases/rtm-android/2.4.0/")
    page.get_by_role("button", name="Override the gate and release").click()
    page.get_by_text("Give the reason for overriding the gate.").wait_for()
    screenshot(page, "lead-override-error")
    page.get_by_label("Reason for the override").fill("Security fix; APAC briefed live.")
    page.get_by_role("button", name="Override the gate and release").click()
    page.get_by_text("Gate overridden: the release is now available").wait_for()
    # The gate's decision stays on the page: overridden, by whom, why.
    decision = page.locator(".gate-decision").inner_text()
    assert "Gate overridden" in decision and "(lena)" in decision
    assert "Security fix; APAC briefed live." in decision
    overrides = page.locator("#overrides")
    assert "Security fix; APAC briefed live." in overrides.inner_text()
    assert "Readiness then: 33% (2 of 6 engineers)." in overrides.inner_text()
    screenshot(page, "lead-override")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.RELEASE_OVERRIDE)
    assert event.actor.username == "lena"

    # On a phone the page still reads: the engineer table scrolls in its own box.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/lead/")
    screenshot(page, "lead-home-mobile")
    page.goto(live_server.url + "/lead/releases/rtm-android/2.4.0/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "lead-release-mobile")


def test_a_lead_of_another_team_gets_404_on_the_release_page(page, live_server, world, screenshot):
    sign_in(page, live_server, "olaf")
    page.wait_for_url(live_server.url + "/lead/")
    assert "rtm-android" not in page.content()
    response = page.goto(live_server.url + "/lead/releases/rtm-android/2.4.0/")
    assert response.status == 404
    screenshot(page, "lead-other-team-404")
