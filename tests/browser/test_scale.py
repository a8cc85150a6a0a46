"""The lead pages at 500 engineers and on a phone, in a real browser: a lead finds
engineers by name among 500 and assigns a course to everyone a filter matches;
at 375 px the release table shows each engineer's status and progress with no
sideways scroll, the header folds into a menu that opens, and axe stays clean.

Screenshots of the manager console, the engineer page and a lesson with code and
a checklist, at 1280 and 375 px, go to $PREFLIGHT_SCREENS (default
/tmp/screens-scale/) for a person to look at."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.actors import SYSTEM
from courses.models import Course, Release
from tests.browser.test_i18n_a11y import axe_violations
from tests.browser.test_locked_out_flow import sign_in
from tests.factories import (
    CourseFactory,
    EngineerFactory,
    LessonFactory,
    ReleaseFactory,
    SdkFactory,
    TeamFactory,
    UserFactory,
)
from training import demo_content
from training.models import Assignment, Engineer
from training.services.managers import manager_grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 800}
SCREENS = Path(os.environ.get("PREFLIGHT_SCREENS", "/tmp/screens-scale"))
REGIONS = ("APAC", "EMEA", "AMER")


def _bulk(team, count: int) -> list[Engineer]:
    User = get_user_model()
    users = User.objects.bulk_create(
        User(
            username=f"eng{i:03d}",
            first_name=("Mia", "Noah", "Omar", "Lea", "Ivy")[i % 5],
            last_name=f"K{i}",
        )
        for i in range(count)
    )
    return Engineer.objects.bulk_create(
        Engineer(user=user, team=team, region=REGIONS[i % 3], calendar_token=f"b{i}")
        for i, user in enumerate(users)
    )


@pytest.fixture
def big_team(db):
    sdk = SdkFactory(slug="rtm-android")
    lead = UserFactory(username="lena")
    team = TeamFactory(slug="apac-rtm", name="APAC RTM", sdks=[sdk], leads=[lead])
    _bulk(team, 500)
    return team


def test_a_lead_searches_500_engineers_and_assigns_a_course_to_a_filtered_set(
    page, live_server, big_team
):
    CourseFactory(slug="push-basics", title="Push basics", status=Course.Status.PUBLISHED)
    outsider_team = TeamFactory(slug="emea-web")
    EngineerFactory(
        user=UserFactory(username="omar-outside", first_name="Omar"),
        team=outsider_team,
        region="EMEA",
    )
    sign_in(page, live_server, "lena")
    page.goto(live_server.url + "/lead/assign/")
    assert page.locator(".found-list input[name=engineers]").count() == 50  # a page, not 500

    page.locator("#id_q").fill("omar")
    page.locator("#id_region").select_option("EMEA")
    page.get_by_role("search", name="Search and filter engineers").get_by_role(
        "button", name="Search"
    ).click()
    page.wait_for_url(lambda url: "q=omar" in url)
    expected = set(
        Engineer.objects.filter(
            team=big_team, user__first_name__icontains="omar", region="EMEA"
        ).values_list("user__username", flat=True)
    )
    assert 0 < len(expected) < 500
    assert (
        f"{len(expected)} engineers match the search." in page.locator("#found-count").inner_text()
    )

    page.locator("#id_course").select_option("push-basics")
    due = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    page.locator("#id_due_at").fill(due)
    page.locator("#id_matching").check()
    page.get_by_role("button", name="Assign", exact=True).click()
    page.locator(".message-success").wait_for()
    assert f"created {len(expected)}" in page.locator(".message-success").inner_text()
    assigned = set(
        Assignment.objects.filter(course__slug="push-basics").values_list(
            "engineer__user__username", flat=True
        )
    )
    assert assigned == expected  # not the outsider, nobody outside the filter


def _release_with_assignments(team, count: int):
    release = ReleaseFactory(
        sdk=team.sdks.get(),
        version="2.4.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=timezone.now() + timedelta(days=5),
    )
    course = CourseFactory(slug="rtm-2-4", release=release, status=Course.Status.PUBLISHED)
    LessonFactory(course=course, position=1)
    statuses = [Assignment.Status.ASSIGNED, Assignment.Status.IN_PROGRESS]
    Assignment.objects.bulk_create(
        Assignment(
            engineer=engineer,
            course=course,
            release=release,
            reason=Assignment.Reason.RELEASE,
            status=statuses[i % 2],
            assigned_at=timezone.now() - timedelta(days=2),
            due_at=release.due_at if i % 4 else timezone.now() - timedelta(hours=3),
        )
        for i, engineer in enumerate(Engineer.objects.filter(team=team)[:count])
    )
    return release


def test_at_375_px_the_release_table_shows_status_and_progress_without_scrolling_sideways(
    browser, live_server, big_team
):
    _release_with_assignments(big_team, 60)
    context = browser.new_context(viewport=PHONE, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, live_server, "lena")
        page.goto(live_server.url + "/lead/releases/rtm-android/2.4.0/")
        rows = page.locator(".engineer-table tbody tr")
        assert rows.count() == 50
        for i in (0, 1, 2, 25, 49):
            row = rows.nth(i)
            row.scroll_into_view_if_needed()
            for part in ("th", ".status-badge", "progress", "td.cell-key time, td.cell-key"):
                box = row.locator(part).first.bounding_box()
                assert box is not None, part
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (part, box)
                assert box["width"] > 0 and box["height"] > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator(".pager").is_visible()
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "lead-release-375.png"), full_page=False)
        assert axe_violations(page) == []
        for path in ("/lead/", "/lead/assign/", "/team/matrix/", "/team/experts/"):
            page.goto(live_server.url + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
            assert axe_violations(page) == [], path
    finally:
        context.close()


def test_at_375_px_the_header_menu_folds_and_opens(browser, live_server, big_team):
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    page = context.new_page()
    try:
        sign_in(page, live_server, "lena")
        page.goto(live_server.url + "/lead/")
        toggle = page.locator(".menu-toggle")
        assert toggle.is_visible()
        assert toggle.get_attribute("aria-expanded") == "false"
        assign = page.get_by_role("link", name="Assign training")
        assert not assign.is_visible()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert assign.is_visible()
        box = assign.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assign.click()
        page.wait_for_url(lambda url: url.endswith("/lead/assign/"))
        # At desktop width there is no button: the menu is simply there.
        page.set_viewport_size({"width": 1280, "height": 900})
        assert not page.locator(".menu-toggle").is_visible()
        assert page.get_by_role("link", name="Skill matrix").is_visible()
    finally:
        context.close()


def _lesson_with_code_and_checklist(engineer):
    """The demo's lesson with fenced Swift code and a "- [ ]" checklist."""
    body = demo_lesson_body()
    course = CourseFactory(slug="push-ios", title="RTM iOS 3.1: push", status="published")
    LessonFactory(
        course=course, position=1, title="Push notifications for offline users", body=body
    )
    LessonFactory(course=course, position=2, title="Reconnection")
    return Assignment.objects.create(
        engineer=engineer,
        course=course,
        reason=Assignment.Reason.LEAD,
        due_at=timezone.now() + timedelta(days=3),
    )


def demo_lesson_body() -> str:
    for value in vars(demo_content).values():
        for lesson in _lessons_in(value):
            if "- [ ]" in lesson["body"] and "```" in lesson["body"]:
                return lesson["body"]
    raise AssertionError("the demo has no lesson with code and a checklist")


def _lessons_in(value):
    if isinstance(value, dict):
        if "lessons" in value:
            yield from value["lessons"]
        for inner in value.values():
            if isinstance(inner, dict | list):
                yield from _lessons_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _lessons_in(inner)


def test_screenshots_of_the_console_the_engineer_page_and_a_lesson(browser, live_server, big_team):
    _release_with_assignments(big_team, 30)
    for region, slug in (("EMEA", "emea-rtm"), ("AMER", "amer-rtm")):
        team = TeamFactory(slug=slug, sdks=[big_team.sdks.get()])
        EngineerFactory(team=team, region=region)
    manager_grant(user=UserFactory(username="maya"), actor=SYSTEM)
    alice = EngineerFactory(
        user=UserFactory(username="alice", first_name="Alice", last_name="Chen"),
        team=big_team,
        region="APAC",
        timezone="Asia/Shanghai",
    )
    assignment = _lesson_with_code_and_checklist(alice)
    SCREENS.mkdir(parents=True, exist_ok=True)
    pages = [
        ("maya", "/lead/", "manager-console"),
        ("maya", "/lead/engineers/eng001/", "engineer-page"),
        ("alice", f"/assignments/{assignment.pk}/lessons/1/", "lesson"),
    ]
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
        page = context.new_page()
        try:
            for username, path, name in pages:
                sign_in(page, live_server, username)
                page.goto(live_server.url + path)
                page.wait_for_load_state()
                page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=True)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        finally:
            context.close()
