"""The API docs work offline: Swagger UI and Redoc come from our own static files
(drf-spectacular-sidecar), under the Content-Security-Policy, with every request
to another host refused."""

from urllib.parse import urlsplit

import pytest

from tests.browser.test_csp import _watch_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _offline(page) -> list[str]:
    """Abort every request that leaves 127.0.0.1; returns the URLs it refused."""
    refused: list[str] = []

    def route(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return refused


def test_swagger_ui_lists_the_operations_offline_under_the_policy(page, live_server):
    refused = _offline(page)
    violations = _watch_violations(page)

    page.goto(live_server.url + "/api/docs/")

    page.locator(
        ".opblock-summary-path", has_text="/api/v1/releases/{sdk}/{version}/readiness/"
    ).first.wait_for()
    assert page.locator(".opblock").count() > 30
    page.get_by_text("Preflight API").first.wait_for()
    assert refused == [] and violations == []


def test_redoc_lists_the_operations_offline_under_the_policy(page, live_server):
    refused = _offline(page)
    violations = _watch_violations(page)

    page.goto(live_server.url + "/api/redoc/")

    page.get_by_role("heading", name="Preflight API").first.wait_for()
    page.get_by_text("/api/v1/releases/{sdk}/{version}/readiness/").first.wait_for(state="attached")
    # Redoc's "powered by" badge is an image on its CDN; the policy keeps it out, and
    # nothing else is missing.
    badge = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert refused == [] and [v for v in violations if badge not in v] == []
