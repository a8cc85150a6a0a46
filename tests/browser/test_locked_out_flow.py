"""A locked-out engineer in a real browser: they use every attempt, the lead sees
"Locked out" and the release at risk, grants one attempt with a reason, the engineer
passes, and readiness counts them."""

import pytest
from django.utils import timezone

from tests.browser.test_engineer_flow import answer
from tests.factories import SkillRecordFactory
from tests.training.quiz_course import build_quiz_course
from training.models import Assignment, AuditEvent
from training.readiness import release_readiness_fresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def sign_in(page, live_server, username):
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_a_lead_grants_a_locked_out_engineer_an_attempt_and_readiness_counts_the_pass(
    page, live_server, engineer, lead, screenshot
):
    qc = build_quiz_course(engineer=engineer, max_attempts=2)
    record = SkillRecordFactory(engineer=engineer, skill=qc.questions[0].skill, level=2)
    assert release_readiness_fresh(qc.release)["complete"] == 0

    # The engineer reads, then fails both attempts.
    sign_in(page, live_server, "alice")
    for lesson in qc.lessons:
        page.goto(f"{live_server.url}/assignments/{qc.assignment.pk}/lessons/{lesson.position}/")
        page.get_by_role("button", name="Mark as read").click()
        page.get_by_text("Read", exact=False).first.wait_for()
    for attempt in (1, 2):
        page.goto(f"{live_server.url}/assignments/{qc.assignment.pk}/quiz/")
        page.get_by_role("button", name="Start the quiz" if attempt == 1 else "Try again").click()
        page.get_by_role("button", name="Submit answers").wait_for()
        answer(page, right=False)
        page.get_by_role("heading", name="Not passed").wait_for()
    assert "That was your last attempt" in page.content()
    # Every attempt used: now the key may be shown.
    assert "correct answer" in page.content()

    # The lead sees the release at risk and alice locked out, and grants an attempt.
    sign_in(page, live_server, "lena")
    page.goto(live_server.url + "/lead/")
    page.get_by_text("At risk").first.wait_for()
    assert "1 required engineer is locked out" in page.content()
    screenshot(page, "console-at-risk")
    page.goto(f"{live_server.url}/lead/releases/{qc.release.sdk.slug}/{qc.release.version}/")
    row = page.locator("table.engineer-table tr", has_text="Alice Chen")
    assert "Locked out" in row.inner_text()
    screenshot(page, "lead-release-locked-out")
    row.get_by_text("Grant an attempt").click()
    row.get_by_label("Reason").first.fill("Sick on the day of the quiz")
    row.get_by_role("button", name="Grant").click()
    page.get_by_text("alice").first.wait_for()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_ATTEMPTS_GRANTED).exists()

    # The engineer is told on the dashboard, passes, and readiness counts her.
    sign_in(page, live_server, "alice")
    assert "Sick on the day of the quiz" in page.content()
    page.goto(f"{live_server.url}/assignments/{qc.assignment.pk}/quiz/")
    page.get_by_role("button", name="Try again").click()
    page.get_by_role("button", name="Submit answers").wait_for()
    answer(page, right=True)
    page.get_by_role("heading", name="Passed", exact=True).wait_for()
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.COMPLETE
    assert release_readiness_fresh(qc.release)["complete"] == 1

    # "My skills" says until when each record is valid.
    page.goto(live_server.url + "/skills/")
    assert "Valid until" in page.content()
    record.refresh_from_db()
    assert record.verified_at.date() == timezone.now().date()
    screenshot(page, "skills-valid-until")
