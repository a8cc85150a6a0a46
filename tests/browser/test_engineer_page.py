"""The lead's engineer page in a real browser, at a desktop and a phone width: the
assignments stay readable as cards and the page never scrolls sideways; a nudge
from the page sends the reminder and says so."""

import pytest
from django.core import mail

from tests.browser.test_locked_out_flow import sign_in
from tests.factories import AssignmentFactory, CourseFactory, SkillFactory, SkillRecordFactory
from tests.training.quiz_course import build_quiz_course
from tests.training.test_extensions import fail
from training.models import AuditEvent, LessonProgress

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_opens_an_engineer_page_at_desktop_and_phone_widths_and_nudges(
    page, live_server, engineer, lead, screenshot
):
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    fail(engineer, qc)  # locked out
    other = AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(slug="onboarding-push", title="Push notifications: the basics"),
        note="Everyone on the APAC shift takes this before the Android release.",
    )
    LessonProgress.objects.create(engineer=engineer, lesson=qc.lessons[0])
    for slug in ("message-ordering", "reconnection", "push-notifications-on-android"):
        SkillRecordFactory(engineer=engineer, skill=SkillFactory(slug=slug), level=3)

    sign_in(page, live_server, "lena")
    page.goto(f"{live_server.url}/lead/releases/{qc.release.sdk.slug}/{qc.release.version}/")
    page.get_by_role("link", name="Alice Chen").click()
    page.wait_for_url("**/lead/engineers/alice/")
    page.get_by_role("heading", name="Recent activity").wait_for()
    assert "Locked out" in page.content()
    screenshot(page, "engineer-page-1280")

    card = page.locator(f"#assignment-{other.pk}")
    card.get_by_text("Remind now").click()
    card.get_by_label("Message").fill("Before the release, please")
    card.get_by_role("button", name="Send the reminder").click()
    page.get_by_text("Reminder sent to Alice Chen").wait_for()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_NUDGED).count() == 1
    assert [m.subject for m in mail.outbox if "reminder" in m.subject] == [
        "[Preflight] A reminder about Push notifications: the basics"
    ]

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    page.get_by_role("heading", name="Assignments").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # Each card keeps its status and due date inside the viewport.
    for box in page.locator(".assignment-card").evaluate_all(
        "cards => cards.map(c => c.getBoundingClientRect().right)"
    ):
        assert box <= 375
    screenshot(page, "engineer-page-375")
