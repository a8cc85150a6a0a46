"""An author in a real browser: the item analysis (its SVG chart under the CSP),
then a regrade from its dry run to the applied result; axe on both pages."""

import pytest

from core.actors import SYSTEM
from tests.browser.test_csp import _watch_violations
from tests.browser.test_i18n_a11y import axe_violations, new_page  # noqa: F401 (a fixture)
from tests.browser.test_lead_flow import sign_in
from tests.training.regrade_course import RIGHT, SLUG, WRONG, answer, regrade_course
from tests.training.regrade_course import regrade_document as document
from training.models import Attempt
from training.services.courses import course_save

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wrong_key(sdk, engineer, lead):
    """lena owns the course; alice passed it on the wrong key, since corrected."""
    course = regrade_course(sdk=sdk, document=document(owner="lena"))
    attempt = answer(engineer=engineer, course=course, choice=WRONG)
    course_save(slug=SLUG, document=document(right=RIGHT, owner="lena"), actor=SYSTEM)
    return attempt


def test_an_author_reads_the_analysis_and_applies_a_regrade(page, live_server, wrong_key):
    violations = _watch_violations(page)
    sign_in(page, live_server, "lena")
    page.wait_for_url(live_server.url + "/lead/")
    page.get_by_role("link", name="Authoring").click()
    page.get_by_role("link", name="Item analysis").click()
    page.locator("#item-chart").wait_for()
    assert page.locator("#item-chart .item-row").count() == 2
    page.locator("#items tr", has_text="edits").get_by_role("link", name="Regrade").click()
    page.get_by_text("pass → fail").wait_for()
    page.get_by_role("button", name="Apply the regrade").click()
    page.get_by_text("Regraded: 1 attempts changed").wait_for()
    page.get_by_text("No attempt's result would change.").wait_for()
    assert Attempt.objects.get(pk=wrong_key.pk).passed is False
    assert violations == []


def test_axe_finds_no_serious_violation_on_the_authoring_pages(
    new_page,  # noqa: F811
    live_server,
    wrong_key,
):
    page = new_page()
    sign_in(page, live_server, "lena")
    page.wait_for_url(live_server.url + "/lead/")
    found = {}
    for name, path in {
        "authoring": "/authoring/",
        "items": f"/authoring/courses/{SLUG}/items/",
        "regrade": f"/authoring/courses/{SLUG}/questions/edits/regrade/",
    }.items():
        assert page.goto(live_server.url + path).status == 200, name
        found[name] = axe_violations(page)
    assert {name: v for name, v in found.items() if v} == {}
