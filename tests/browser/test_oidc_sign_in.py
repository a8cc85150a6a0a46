"""Single sign-on against a real OpenID provider: oidc-provider-mock runs as its
own process on a free port (authorization code flow, signed ID tokens, userinfo,
RP-initiated logout); the test sets the person's claims through its HTTP API and
signs in through it in Chromium."""

import os
import subprocess
import sys
import time

import pytest
import requests

from tests.factories import TeamFactory
from tests.reliability.stack import free_port
from training.models import Engineer, Team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(tmp_path):
    """The provider's base URL (its issuer). Skips when it cannot start, fails
    instead under REQUIRE_BROWSER=1."""
    port = free_port()
    log = tmp_path / "oidc-provider.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce"],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),  # a file, not a pipe nobody reads that could fill up
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    else:
        process.kill()
    if process.poll() is not None:
        tail = log.read_text(errors="replace")[-500:]
        reason = f"the OpenID provider (oidc-provider-mock) did not start: {tail!r}"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sso(settings, provider):
    settings.OIDC_ISSUER = provider
    settings.OIDC_RP_CLIENT_ID = "preflight"
    settings.OIDC_RP_CLIENT_SECRET = "preflight-secret"
    settings.OIDC_PROVIDER_NAME = "Acme ID"
    settings.OIDC_TEAM_MAP = {"eng-android": "android", "eng-ios": "ios"}
    settings.OIDC_LEAD_MAP = {"leads-android": "android"}
    settings.OIDC_MANAGER_GROUPS = ["support-managers"]
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"]}
    directives["form-action"] = [*directives["form-action"], provider]
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}
    return provider


def set_claims(provider: str, sub: str, **claims) -> None:
    response = requests.put(f"{provider}/users/{sub}", json=claims, timeout=5)
    assert response.status_code == 204, response.text


def sign_in(page, live_server, sub: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_role("link", name="Sign in with Acme ID").click()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(live_server.url + "/")


def test_sign_in_creates_then_updates_the_person_from_the_claims(page, live_server, sso):
    android = TeamFactory(slug="android", name="Android")
    TeamFactory(slug="ios", name="iOS")
    set_claims(
        sso,
        "alice",
        email="alice@acme.test",
        preferred_username="alice",
        name="Alice Liddell",
        locale="zh-CN",
        zoneinfo="Asia/Shanghai",
        groups=["eng-android", "leads-android"],
    )

    # First sign-in: a new person, on the dashboard, in Chinese, with the team.
    sign_in(page, live_server, "alice")
    engineer = Engineer.objects.select_related("user", "team").get(user__username="alice")
    assert (engineer.team.slug, engineer.language, engineer.timezone) == (
        "android",
        "zh-hans",
        "Asia/Shanghai",
    )
    assert engineer.user.email == "alice@acme.test"
    assert engineer.user.get_full_name() == "Alice Liddell"
    assert android.leads.filter(pk=engineer.user_id).exists()
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # Sign out: Preflight's session ends, then the provider's (RP-initiated logout).
    page.locator("form[action='/accounts/logout/'] button").click()
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(live_server.url + "/accounts/login/")
    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url

    # The provider moves her to iOS, drops her lead group, and she moved to Paris.
    set_claims(
        sso,
        "alice",
        email="alice@acme.test",
        preferred_username="alice",
        name="Alice Liddell",
        locale="en-GB",
        zoneinfo="Europe/Paris",
        groups=["eng-ios", "support-managers"],
    )
    sign_in(page, live_server, "alice")
    engineer.refresh_from_db()
    assert (engineer.team.slug, engineer.language, engineer.timezone) == (
        "ios",
        "en",
        "Europe/Paris",
    )
    assert not Team.objects.get(slug="android").leads.filter(pk=engineer.user_id).exists()
    assert hasattr(type(engineer.user).objects.get(pk=engineer.user_id), "support_manager")
    assert Engineer.objects.filter(user__username="alice").count() == 1
