"""What a sign-in through the identity provider changes (training.services.sso),
and the sign-in page with passwords switched off. The whole flow through a real
provider and a browser: tests/browser/test_oidc_sign_in.py."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from core.actors import SYSTEM
from tests.factories import EngineerFactory, TeamFactory, UserFactory
from training.models import Engineer, PersonPreferences, SupportManager
from training.services.people import engineer_update
from training.services.sso import SsoMapping, sso_user_sync

pytestmark = pytest.mark.django_db

MAPPING = SsoMapping(
    team_map={"eng-android": "android"},
    lead_map={"leads-android": "android"},
    manager_groups=frozenset({"managers"}),
)


def claims(**extra):
    return {"sub": "1", "email": "max@acme.test", "preferred_username": "max", **extra}


def test_someone_in_no_team_group_is_a_person_with_preferences():
    user = sso_user_sync(
        user=None,
        claims=claims(zoneinfo="America/Chicago", locale="zh_Hans", name="Max Power"),
        mapping=MAPPING,
        actor=SYSTEM,
    )
    assert not Engineer.objects.filter(user=user).exists()
    preferences = PersonPreferences.objects.get(user=user)
    assert (preferences.timezone, preferences.language) == ("America/Chicago", "zh-hans")
    assert (user.first_name, user.last_name, user.has_usable_password()) == ("Max", "Power", False)


def test_a_new_engineer_gets_the_region_of_their_time_zone_and_a_lead_role():
    android = TeamFactory(slug="android")
    user = sso_user_sync(
        user=None,
        claims=claims(zoneinfo="America/Chicago", groups=["eng-android", "leads-android"]),
        mapping=MAPPING,
        actor=SYSTEM,
    )
    engineer = Engineer.objects.get(user=user)
    assert (engineer.team, engineer.region) == (android, "AMER")
    assert android.leads.filter(pk=user.pk).exists()


def test_the_manager_role_follows_the_group_and_unmapped_teams_stay():
    other = TeamFactory(slug="web")
    user = UserFactory(username="max", email="max@acme.test")
    EngineerFactory(user=user, team=other)
    sso_user_sync(user=user, claims=claims(groups=["managers"]), mapping=MAPPING, actor=SYSTEM)
    assert SupportManager.objects.filter(user=user).exists()
    sso_user_sync(user=user, claims=claims(groups=[]), mapping=MAPPING, actor=SYSTEM)
    assert not SupportManager.objects.filter(user=user).exists()
    assert Engineer.objects.get(user=user).team == other  # no map names it


def test_a_deactivated_engineer_is_left_untouched_and_cannot_sign_in():
    engineer = EngineerFactory(user=UserFactory(username="max"))
    browser = Client()
    browser.force_login(engineer.user)
    engineer_update(engineer=engineer, actor=SYSTEM, active=False)  # the people API's path
    engineer.user.refresh_from_db()
    assert not engineer.user.is_active and not Session.objects.exists()
    same = sso_user_sync(
        user=engineer.user, claims=claims(groups=["managers"]), mapping=MAPPING, actor=SYSTEM
    )
    assert not SupportManager.objects.filter(user=same).exists()


def test_with_passwords_off_the_page_offers_only_the_provider(client, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"
    settings.OIDC_RP_CLIENT_ID = "preflight"
    settings.OIDC_PROVIDER_NAME = "Acme ID"
    settings.PREFLIGHT_PASSWORD_LOGIN = False
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Acme ID" in page and 'name="password"' not in page
    UserFactory(username="pat", password="correct horse battery staple")
    response = client.post(
        "/accounts/login/", {"username": "pat", "password": "correct horse battery staple"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_provider_that_does_not_answer_sends_back_to_sign_in(client, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"
    settings.OIDC_RP_CLIENT_ID = "preflight"
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_without_configuration_the_sign_in_routes_do_not_exist(client):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()


def test_a_sign_in_never_takes_over_a_superuser():
    from core.errors import InvalidInput

    UserFactory(username="max", email="max@acme.test", is_superuser=True, is_staff=True)
    with pytest.raises(InvalidInput):
        sso_user_sync(user=None, claims=claims(), mapping=MAPPING, actor=SYSTEM)
