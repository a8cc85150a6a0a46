"""An engineer answers an ordering and an essay question; the lead grades the essay
from the queue; the engineer passes and readiness counts them. In a real browser."""

import re

import pytest
from django.utils import timezone

from courses.models import Release
from tests.training.question_bank import bank_course, bank_document, kind_questions
from training.models import Assignment, Attempt
from training.readiness import release_readiness

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def sign_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_an_essay_is_graded_from_the_queue_and_the_engineer_passes(
    browser, live_server, engineer, lead, screenshot
):
    questions = [kind_questions()[3], kind_questions()[6]]  # ordering, essay
    document = bank_document(questions=questions, pool_size=0)
    _, quiz, assignment = bank_course(engineer=engineer, document=document)
    release = Release.objects.get(version="2.6.0")
    Release.objects.filter(pk=release.pk).update(status="published", published_at=timezone.now())
    Assignment.objects.filter(pk=assignment.pk).update(
        reason=Assignment.Reason.RELEASE, release=release
    )

    engineer_page = browser.new_context().new_page()
    sign_in(engineer_page, live_server, "alice")
    engineer_page.goto(f"{live_server.url}/assignments/{assignment.pk}/quiz/")
    engineer_page.get_by_role("button", name="Start the quiz").click()
    engineer_page.wait_for_url(f"{live_server.url}/attempts/**")
    attempt = Attempt.objects.get(engineer=engineer, quiz=quiz)
    for q in attempt.snapshot["questions"]:
        if q["kind"] == "ordering":
            place = {key: str(n) for n, key in enumerate(q["order"], start=1)}
            for item in q["items"]:
                engineer_page.locator(f"#q{q['id']}-{item['key']}").select_option(
                    place[item["key"]]
                )
        else:
            engineer_page.locator(f"textarea[name=q{q['id']}]").fill(
                "The connection timed out: please raise connectTimeout."
            )
    engineer_page.get_by_role("button", name="Submit answers").click()
    engineer_page.get_by_role("heading", name="Awaiting grading", exact=True).wait_for()
    screenshot(engineer_page, "essay-awaiting-grading")

    lead_page = browser.new_context().new_page()
    sign_in(lead_page, live_server, "lena")
    lead_page.goto(f"{live_server.url}/grading/")
    lead_page.get_by_role("link", name="Grade").click()
    lead_page.get_by_text("Names the").wait_for()  # the rubric beside the answer
    screenshot(lead_page, "grading-an-essay")
    lead_page.get_by_label(re.compile(r"^Score \(0")).fill("90")
    lead_page.get_by_label("Feedback to the engineer").fill("Clear and kind.")
    lead_page.get_by_role("button", name="Save the grade").click()
    lead_page.get_by_text("Nothing awaits grading.").wait_for()

    engineer_page.reload()
    engineer_page.get_by_role("heading", name="Passed", exact=True).wait_for()
    assert "Clear and kind." in engineer_page.content()
    attempt.refresh_from_db()
    assert (attempt.passed, attempt.score) == (True, 95)
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.COMPLETE
    assert release_readiness(release)["complete"] == 1
