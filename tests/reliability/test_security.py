"""Production security settings, browser security headers, sign-in throttling and API
rate limits."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.settings_process import start_settings
from training.api.throttling import ClientRateThrottle
from training.services.tokens import token_issue

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.django_db


def test_check_deploy_reports_nothing_with_production_settings():
    """DEBUG off, the secret and the host from the environment, nothing else."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_SETTINGS_MODULE": "training.settings",
        "SECRET_KEY": "k3Q9-production-like-secret-v8Zx2LmN0pRtY6wBs4DfGhJkLqW1eR5tY7u",
        "ALLOWED_HOSTS": "preflight.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_are_https_only():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.DEBUG)"
    )
    result = start_settings({"SECRET_KEY": "x" * 50}, code=code, drop=("DEBUG", "SECURE_", "SESS"))
    assert result.stdout.split() == ["True", "31536000", "True", "True", "False"], result.stderr


# --- headers ------------------------------------------------------------------


CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def _policy(response) -> dict[str, str]:
    directives = (
        part.strip().partition(" ") for part in response["Content-Security-Policy"].split(";")
    )
    return {name: value for name, _, value in directives}


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [("/accounts/login/", False), ("/", True), ("/skills/", True), ("/healthz", False)],
)
def test_pages_send_security_headers_and_a_content_security_policy(
    client, engineer, path, signed_in
):
    if signed_in:
        client.force_login(engineer.user)
    response = client.get(path)
    assert response.status_code == 200
    assert _policy(response) == CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style_the_policy_would_block(client, engineer):
    pages = [client.get("/accounts/login/").text]
    client.force_login(engineer.user)
    pages += [client.get(path).text for path in ("/", "/skills/")]
    for html in pages:
        assert "<script>" not in html and "<style" not in html and " style=" not in html
        assert " onclick=" not in html and "hx-on" not in html and "javascript:" not in html


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_pages_load_scripts_from_our_origin_only(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "<script>" not in response.text  # start-up scripts are files of ours
    assert "https://" not in response.text.replace("https://www.w3.org", "")


def test_https_is_enforced_in_production_but_health_probes_stay_plain(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200
    secure = client.get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


# --- sign-in throttling ---------------------------------------------------------


def _sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_five_wrong_passwords_lock_that_username_from_that_address(engineer, settings):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "alice", "wrong").status_code == 200  # the form again
    locked = _sign_in(client, "alice", "wrong")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.text
    # Even the right password is refused during the cool-off…
    assert _sign_in(client, "alice", PASSWORD).status_code == 429
    # …but not for another person, nor for alice from elsewhere.
    other = Client(REMOTE_ADDR="198.51.100.2")
    assert _sign_in(other, "alice", PASSWORD).status_code == 302
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)):
        assert _sign_in(client, "alice", PASSWORD).status_code == 302


def test_the_admin_sign_in_is_throttled_too(staff, settings):
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "stella", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "stella", "password": PASSWORD})
    assert response.status_code == 429


def test_a_successful_sign_in_resets_the_count(engineer, settings):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "alice", "wrong")
    assert _sign_in(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "alice", "wrong").status_code == 200


# --- API rate limits ----------------------------------------------------------------


@pytest.fixture
def rate(monkeypatch):
    def set_rate(api: str, anon: str = "60/min") -> None:
        monkeypatch.setitem(ClientRateThrottle.THROTTLE_RATES, "api", api)
        monkeypatch.setitem(ClientRateThrottle.THROTTLE_RATES, "api_anon", anon)

    return set_rate


def _token(*scopes: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + token_issue(name="t", scopes=list(scopes))[1])
    return client


def test_each_token_has_its_own_budget(rate):
    rate("3/min")
    first, second = _token("catalog"), _token("catalog")
    assert [first.get("/api/v1/sdks/").status_code for _ in range(3)] == [200] * 3
    limited = first.get("/api/v1/sdks/")
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 60
    assert "detail" in limited.json()
    assert second.get("/api/v1/sdks/").status_code == 200


def test_people_are_limited_by_user_and_anonymous_clients_by_address(rate, engineer, lead):
    rate("2/min", anon="2/min")
    alice, lena = APIClient(), APIClient()
    alice.force_login(engineer.user)
    lena.force_login(lead)
    assert [alice.get("/api/v1/sdks/").status_code for _ in range(3)] == [200, 200, 429]
    assert lena.get("/api/v1/sdks/").status_code == 200
    here, there = Client(REMOTE_ADDR="192.0.2.1"), Client(REMOTE_ADDR="192.0.2.2")
    assert [here.get("/api/schema/").status_code for _ in range(3)] == [200, 200, 429]
    assert there.get("/api/schema/").status_code == 200


def test_the_rate_limit_fails_open_when_the_cache_is_down(rate):
    rate("1/min")
    client = _token("catalog")
    with mock.patch.object(cache, "get", side_effect=ConnectionError("cache down")):
        assert [client.get("/api/v1/sdks/").status_code for _ in range(3)] == [200] * 3


def test_a_scope_with_its_own_rate_has_its_own_budget(rate, monkeypatch):
    rate("2/min")
    monkeypatch.setitem(ClientRateThrottle.THROTTLE_RATES, "api_people", "3/min")
    client = _token("catalog", "people")
    assert [client.get("/api/v1/engineers/").status_code for _ in range(4)] == [200] * 3 + [429]
    # The catalog has no rate of its own: the shared budget, untouched by the above.
    assert [client.get("/api/v1/sdks/").status_code for _ in range(3)] == [200, 200, 429]


def test_a_bulk_sync_of_many_engineers_is_one_call(rate, team):
    rate("2/min")
    client = _token("people")
    body = [
        {"username": f"hire{i}", "team": team.slug, "region": "APAC", "timezone": "UTC"}
        for i in range(50)
    ]
    answer = client.post("/api/v1/engineers/bulk/", body, format="json")
    assert answer.status_code == 200 and answer.json()["created"] == 50
    assert client.get("/api/v1/engineers/").status_code == 200
    assert client.get("/api/v1/engineers/").status_code == 429


def test_a_bad_scope_rate_setting_stops_the_process():
    result = start_settings(
        {"SECRET_KEY": "x" * 50, "PREFLIGHT_API_RATE_PEOPLE": "600 per minute"}, drop=()
    )
    assert result.returncode != 0
    assert "PREFLIGHT_API_RATE_PEOPLE must be a count per period" in result.stderr


def test_a_bad_rate_setting_stops_the_process():
    result = start_settings({"SECRET_KEY": "x" * 50, "PREFLIGHT_API_RATE": "lots"}, drop=())
    assert result.returncode != 0
    assert "PREFLIGHT_API_RATE must be a count per period" in result.stderr


def test_a_readme_command_runs_in_a_fresh_shell_after_make_run():
    """No DATABASE_URL and no SECRET_KEY: the demo's SQLite checkout, so manage.py
    runs with its settings (`make run` needs no variables, nor do the commands the
    README shows after it). Naming a database brings the strict checks back."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    demo = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert "W040" not in demo.stdout + demo.stderr
    production = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": "postgres://preflight@db.internal:5432/preflight"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert production.returncode != 0
    assert "SECRET_KEY is not set" in production.stderr
