"""An engineer's whole way through a release course, in a real browser."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import AssignmentFactory, CourseFactory, LessonFactory
from tests.training.quiz_course import QUESTIONS, build_quiz_course
from training.models import Assignment, SkillRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def sign_in(page, live_server, username="alice"):
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")


def answer(page, *, right: bool):
    """Answer both questions; with right=False the single-choice one is wrong."""
    (_, _, _, _, single), (_, _, _, _, multiple) = QUESTIONS
    if right:
        page.get_by_label(next(t for t, c in single if c)).check()
    else:
        page.get_by_label(next(t for t, c in single if not c)).check()
    for text, correct in multiple:
        if correct:
            page.get_by_label(text).check()
    page.get_by_role("button", name="Submit answers").click()


def test_an_engineer_reads_fails_passes_and_sees_the_skill(page, live_server, engineer, screenshot):
    due = (timezone.now() + timedelta(days=3)).replace(hour=16, minute=0, second=0, microsecond=0)
    qc = build_quiz_course(engineer=engineer, due_at=due)
    local_due = due.astimezone(engineer.zone)
    now = timezone.now()
    late = CourseFactory(title="Push notifications onboarding")
    LessonFactory(course=late, position=1)
    AssignmentFactory(
        engineer=engineer,
        course=late,
        reason=Assignment.Reason.ONBOARDING,
        assigned_at=now - timedelta(days=20),
        due_at=now - timedelta(hours=5, minutes=10),
    )

    # Sign in; the dashboard shows the assignment with its due date in Asia/Shanghai.
    sign_in(page, live_server)
    due_group = page.locator("section[aria-labelledby=group-due]")
    card = due_group.locator(".assignment-card", has_text=qc.course.title)
    card.wait_for()
    assert local_due.strftime("%a %-d %b %Y, %H:%M CST") in card.inner_text()
    assert re.search(r"due in (2|3) days", card.inner_text())
    assert "rtm-android 2.4.0" in card.inner_text()
    overdue = page.locator("section[aria-labelledby=group-overdue]")
    assert "overdue by 5 h" in overdue.inner_text()
    screenshot(page, "dashboard")

    # Read the lessons: the first with htmx ("Mark as read" updates in place).
    card.get_by_role("link", name=re.compile("^Start")).click()
    page.get_by_role("heading", level=1, name=qc.lessons[0].title).wait_for()
    screenshot(page, "lesson")
    page.get_by_role("button", name="Mark as read").click()
    page.get_by_text("✓ Read").wait_for()
    assert "33% complete" in page.locator("#lesson-progress").inner_text()
    page.locator("#lesson-status").get_by_role("link", name=re.compile("^Next")).click()
    page.get_by_role("heading", level=1, name=qc.lessons[1].title).wait_for()
    page.get_by_role("button", name="Mark as read").click()
    page.get_by_role("link", name=re.compile("Go to the quiz")).click()

    # The quiz: nothing in the page tells the right answers or explains them.
    page.get_by_role("button", name="Start the quiz").click()
    page.get_by_role("button", name="Submit answers").wait_for()
    html = page.content()
    for _prompt, _kind, _skill, explanation, _choices in QUESTIONS:
        assert explanation.split("**")[0] not in html
    assert "correct" not in html.lower()
    screenshot(page, "quiz")

    # Fail once.
    answer(page, right=False)
    page.get_by_role("heading", name="Not passed").wait_for()
    assert "50%" in page.locator(".score").inner_text()
    # Attempts remain: which questions were wrong, never the key or the explanations.
    review = page.locator(".answers").inner_text()
    assert "Wrong" in review
    assert "Edits keep the server timestamp" not in review
    assert "correct answer" not in review.lower()
    screenshot(page, "result-failed")

    # Then pass.
    page.get_by_role("button", name="Try again").click()
    page.get_by_role("button", name="Submit answers").wait_for()
    answer(page, right=True)
    page.get_by_role("heading", name="Passed", exact=True).wait_for()
    assert "100%" in page.locator(".score").inner_text()
    assert "Edits keep the server timestamp" in page.locator(".answers").inner_text()
    screenshot(page, "result")

    # The assignment is complete on the dashboard, and the skill shows on "My skills".
    page.get_by_role("link", name="Back to the dashboard").click()
    complete = page.locator("section[aria-labelledby=group-complete]")
    complete.get_by_role("link", name=qc.course.title, exact=True).wait_for()
    assert "Complete" in complete.inner_text()
    screenshot(page, "dashboard-complete")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My skills").click()
    row = page.get_by_role("row", name=re.compile("Message ordering"))
    row.wait_for()
    assert "Proficient" in row.inner_text()
    assert "attempt 2" in row.inner_text()
    screenshot(page, "skills")
    page.goto(live_server.url + f"/assignments/{qc.assignment.pk}/")
    assert "100% complete" in page.locator(".page-head").inner_text()
    screenshot(page, "course-overview")

    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.COMPLETE
    assert SkillRecord.objects.filter(engineer=engineer).count() == 2


def test_lessons_can_be_read_without_javascript(browser, live_server, engineer, screenshot):
    qc = build_quiz_course(engineer=engineer, due_at=datetime.now(UTC) + timedelta(days=2))
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        sign_in(page, live_server)
        page.get_by_role("link", name=re.compile("^Start")).click()
        page.get_by_role("button", name="Mark as read").click()
        page.get_by_text("✓ Read").wait_for()
        assert page.url.endswith(f"/lessons/{qc.lessons[0].position}/#lesson-status")
        screenshot(page, "lesson-mobile-no-js")
    finally:
        context.close()


def test_the_skip_link_is_the_first_stop_for_the_keyboard(page, live_server, engineer):
    build_quiz_course(engineer=engineer)
    sign_in(page, live_server)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
