"""The Content-Security-Policy in a real browser: no page breaks a rule, and htmx
(loaded from our static files, configured without eval or injected styles) still
updates pages in place."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.test_engineer_flow import sign_in
from tests.training.quiz_course import build_quiz_course

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def _watch_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return violations


def test_engineer_pages_and_htmx_work_under_the_policy(page, live_server, engineer):
    qc = build_quiz_course(engineer=engineer, due_at=timezone.now() + timedelta(days=3))
    violations = _watch_violations(page)

    sign_in(page, live_server)
    page.get_by_role("link", name=re.compile("^Start")).first.click()
    page.get_by_role("heading", level=1, name=qc.lessons[0].title).wait_for()
    # htmx posts with the CSRF header from hx-headers and swaps the status in place.
    page.get_by_role("button", name="Mark as read").click()
    page.get_by_text("✓ Read").wait_for()
    for path in ("/skills/", f"/assignments/{qc.assignment.pk}/quiz/"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")

    assert violations == []


def test_the_admin_works_under_the_policy(page, live_server, staff):
    violations = _watch_violations(page)
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("stella")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/admin/")
    page.goto(live_server.url + "/admin/courses/release/add/")
    page.wait_for_load_state("load")
    assert violations == []
