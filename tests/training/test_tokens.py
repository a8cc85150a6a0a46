import pytest
from django.core.management import CommandError, call_command

from training.models import ApiToken
from training.models.tokens import hash_token


@pytest.mark.django_db
def test_issue_token_prints_the_token_alone_on_its_last_line_and_stores_only_its_hash(capsys):
    call_command("issue_token", "release-pipeline", "--scope", "releases", "--scope", "catalog")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert raw.startswith("pf_") and " " not in raw
    assert token.key_hash == hash_token(raw)
    assert raw not in (token.key_hash, token.prefix, token.name)
    assert token.scopes == ["catalog", "releases"]


@pytest.mark.django_db
def test_issue_token_refuses_an_unknown_scope():
    with pytest.raises(CommandError):
        call_command("issue_token", "x", "--scope", "everything")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_missing_or_unknown_token_is_401_with_a_bearer_challenge(anon):
    response = anon.get("/api/v1/releases/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    anon.credentials(HTTP_AUTHORIZATION="Bearer pf_not-a-real-token")
    assert anon.get("/api/v1/releases/").status_code == 401


@pytest.mark.django_db
def test_a_revoked_token_is_401(token_client):
    client = token_client("releases")
    assert client.get("/api/v1/releases/").status_code == 200
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v1/releases/").status_code == 401


@pytest.mark.django_db
def test_a_token_without_the_scope_is_403_naming_the_scope(token_client):
    response = token_client("catalog").get("/api/v1/releases/")
    assert response.status_code == 403
    assert "releases" in response.json()["detail"]


@pytest.mark.django_db
def test_the_override_scope_may_read_releases_but_not_record_them(token_client):
    client = token_client("releases:override")
    assert client.get("/api/v1/releases/").status_code == 200
    assert client.post("/api/v1/releases/", {}, format="json").status_code == 403


@pytest.mark.django_db
def test_an_override_only_token_may_mark_a_release_available_over_the_gate(token_client, engineer):
    from courses.models import Release
    from tests.factories import ReleaseFactory

    ReleaseFactory(sdk=engineer.team.sdks.get(), version="2.4.0", status=Release.Status.PUBLISHED)
    client = token_client("releases:override")
    url = "/api/v1/releases/rtm-android/2.4.0/availability/"

    assert client.post(url, {}, format="json").status_code == 409
    response = client.post(url, {"override": True, "reason": "Hotfix"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "available"
