"""Shared fixtures: personas (engineer, lead, outsider, pipeline), API clients with
tokens, and the gate for tests that need the real services or a browser."""

import os

import pytest
from rest_framework.test import APIClient

from tests.factories import EngineerFactory, SdkFactory, TeamFactory, UserFactory
from training.celery import app as celery_app
from training.services.tokens import token_issue


def pytest_collection_modifyitems(config, items):
    """Tests marked `services` need PostgreSQL and Redis; `browser`, Chromium.

    Without them such tests skip, saying what is missing; with REQUIRE_SERVICES=1 or
    REQUIRE_BROWSER=1 (as .ci/run sets) they fail instead, so CI cannot go green by
    skipping them.
    """
    from tests.services import browser_missing, services_missing

    missing_services = services_missing() if any("services" in i.keywords for i in items) else None
    missing_browser = browser_missing() if any("browser" in i.keywords for i in items) else None
    for item in items:
        for marker, missing, required in (
            ("services", missing_services, os.environ.get("REQUIRE_SERVICES") == "1"),
            ("browser", missing_browser, os.environ.get("REQUIRE_BROWSER") == "1"),
        ):
            if marker in item.keywords and missing:
                if required:
                    item.add_marker(pytest.mark.usefixtures("_fail_missing_" + marker))
                    item.user_properties.append((marker + "_missing", missing))
                else:
                    item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture
def _fail_missing_services(request):
    reason = dict(request.node.user_properties).get("services_missing")
    pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")


@pytest.fixture
def _fail_missing_browser(request):
    reason = dict(request.node.user_properties).get("browser_missing")
    pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Unit tests run tasks in process; only `services` tests talk to a real broker.

    The app reads Django settings with namespace="CELERY", so the prefixed key is the
    one that counts: `conf.task_always_eager = True` alone is shadowed by it.
    """
    if "services" in request.keywords:
        yield
        return
    previous = celery_app.conf.CELERY_TASK_ALWAYS_EAGER
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = previous


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """API rate-limit counters live in the cache; each test starts with a full budget.
    Only a process-local cache is cleared: clearing a shared Redis would flush it."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()
    yield


@pytest.fixture
def sdk(db):
    return SdkFactory(slug="rtm-android", name="RTM SDK for Android")


@pytest.fixture
def team(db, sdk, lead):
    return TeamFactory(slug="apac-rtm", name="APAC RTM", sdks=[sdk], leads=[lead])


@pytest.fixture
def lead(db):
    return UserFactory(username="lena", first_name="Lena", last_name="Lead")


@pytest.fixture
def engineer(db, team):
    return EngineerFactory(
        user=UserFactory(username="alice", first_name="Alice", last_name="Chen"),
        team=team,
        region="APAC",
        timezone="Asia/Shanghai",
    )


@pytest.fixture
def outsider(db):
    """An engineer on another team, supporting another SDK."""
    other_lead = UserFactory(username="olaf")
    other_team = TeamFactory(slug="emea-web", sdks=[SdkFactory(slug="rtm-web")], leads=[other_lead])
    return EngineerFactory(
        user=UserFactory(username="oscar"),
        team=other_team,
        region="EMEA",
        timezone="Europe/Berlin",
    )


@pytest.fixture
def staff(db):
    return UserFactory(username="stella", is_staff=True, is_superuser=True)


def _token_client(*scopes: str) -> APIClient:
    _, raw = token_issue(name="test-" + "-".join(scopes or ("none",)), scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def token_client(db):
    """token_client("releases", "catalog") → an APIClient with such a token."""
    return _token_client


@pytest.fixture
def pipeline(db):
    """The release pipeline: a client whose token has the `releases` scope."""
    return _token_client("releases")


@pytest.fixture
def anon():
    return APIClient()
