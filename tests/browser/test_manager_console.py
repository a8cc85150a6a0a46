"""A support manager in a real browser: the console shows every region of a release
side by side (APAC, EMEA, AMER), says who is on shift and who is next, and stays
within a phone's width."""

import pytest

from core.actors import SYSTEM
from tests.browser.test_locked_out_flow import sign_in
from tests.factories import EngineerFactory, TeamFactory, UserFactory
from tests.training.quiz_course import build_quiz_course
from training.models import Assignment
from training.services.managers import manager_grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sees_all_three_regions_on_one_console(page, live_server, engineer, screenshot):
    qc = build_quiz_course(engineer=engineer, max_attempts=2)  # alice: APAC, apac-rtm
    for region, slug in (("EMEA", "emea-rtm"), ("AMER", "amer-rtm")):
        team = TeamFactory(slug=slug, sdks=[qc.release.sdk])
        other = EngineerFactory(team=team, region=region)
        Assignment.objects.create(
            engineer=other,
            course=qc.course,
            release=qc.release,
            reason=Assignment.Reason.RELEASE,
            due_at=qc.assignment.due_at,
        )
    manager_grant(user=UserFactory(username="maya"), actor=SYSTEM)

    sign_in(page, live_server, "maya")
    page.goto(live_server.url + "/lead/")
    columns = page.locator("li.sun-region")
    columns.first.wait_for()
    assert [columns.nth(i).get_attribute("data-region") for i in range(3)] == [
        "APAC",
        "EMEA",
        "AMER",
    ]
    assert page.locator("li.sun-now").count() == 1
    assert page.locator("li.sun-next").count() == 1
    assert "Support manager" in page.content()
    # Side by side at desktop width: the three columns share one row.
    tops = {round(columns.nth(i).bounding_box()["y"]) for i in range(3)}
    assert len(tops) == 1
    screenshot(page, "manager-console-1280")

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    columns.first.wait_for()
    for i in range(3):
        box = columns.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "manager-console-375")
