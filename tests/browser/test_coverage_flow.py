"""A support manager in a real browser closes a coverage gap: the console shows the
launch window's heat map, the release page's gap names the engineer on shift who
is not ready, and one click gives them the release's training."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.actors import SYSTEM
from tests.browser.test_locked_out_flow import sign_in
from tests.factories import EngineerFactory, UserFactory
from tests.training.quiz_course import build_quiz_course
from training.models import Assignment
from training.services.managers import manager_grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_opens_a_gap_and_assigns_the_suggested_engineer(
    page, live_server, engineer, screenshot
):
    qc = build_quiz_course(engineer=engineer, max_attempts=2)  # alice: APAC, not ready
    # The launch window starts next Monday 00:00 UTC (08:00 in Shanghai): nobody is
    # ready, so every hour is a gap; Nina joined the team yesterday, untrained.
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today + timedelta(days=7 - today.weekday())
    qc.release.customer_available_at = monday
    qc.release.save(update_fields=["customer_available_at"])
    nina = EngineerFactory(
        user=UserFactory(username="nina", first_name="Nina", last_name="Park"),
        team=engineer.team,
        region="APAC",
        timezone="Asia/Shanghai",
    )
    manager_grant(user=UserFactory(username="maya"), actor=SYSTEM)

    sign_in(page, live_server, "maya")
    page.goto(live_server.url + "/lead/")
    strip = page.locator("table.coverage-map-compact")
    strip.wait_for()
    assert strip.locator("tr[data-region='APAC'] td.cov-gap").count() == 72
    screenshot(page, "coverage-console")

    page.get_by_role("link", name="Gaps, who is on shift and the experts on shift now").click()
    page.locator("#coverage").wait_for()
    # Hover/tap: a cell opens to say who is on shift then.
    cell = page.locator("tr[data-region='APAC'] td.cov").nth(2)  # 10:00 in Shanghai
    cell.locator("summary").click()
    assert "Not ready: Alice Chen, Nina Park" in cell.inner_text()
    gap = page.locator("details.coverage-gap").first
    gap.locator("summary").click()
    assert gap.get_by_role("button", name="Remind Alice Chen").is_visible()
    screenshot(page, "coverage-gap-open")
    gap.get_by_role("button", name="Assign the training to Nina Park").click()
    page.wait_for_url(lambda url: "#coverage" in url)
    assert "Nina Park now has the training" in page.content()
    assert Assignment.objects.filter(
        engineer=nina, release=qc.release, reason=Assignment.Reason.RELEASE
    ).exists()
    # Nina now has training to finish: the gap offers to remind her instead.
    page.locator("details.coverage-gap").first.locator("summary").click()
    assert page.get_by_role("button", name="Remind Nina Park").is_visible()
