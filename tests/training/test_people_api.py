from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.actors import SYSTEM
from tests.factories import (
    CourseFactory,
    EngineerFactory,
    ReleaseFactory,
    SdkFactory,
    SkillFactory,
    SkillRecordFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Assignment, Engineer, Team
from training.services.people import engineer_upsert

User = get_user_model()


@pytest.fixture
def hr(token_client):
    """The HR sync: a token with the `people` scope."""
    return token_client("people")


@pytest.fixture
def catalog(token_client):
    return token_client("catalog")


@pytest.fixture
def open_release(sdk):
    """A published rtm-android release, with its course, not yet with customers."""
    release = ReleaseFactory(sdk=sdk, version="2.4.0", status="published")
    CourseFactory(slug="rtm-android-2-4", release=release)
    return release


ALICE = {
    "username": "alice",
    "email": "alice@example.com",
    "name": "Alice Chen",
    "team": "apac-rtm",
    "tier": "L1",
    "region": "APAC",
    "timezone": "Asia/Shanghai",
}


# --- teams --------------------------------------------------------------------


def test_posting_a_new_team_creates_it_with_201(hr, sdk, lead):
    body = {"slug": "apac-rtm", "name": "APAC RTM", "sdks": ["rtm-android"], "leads": ["lena"]}
    response = hr.post("/api/v1/teams/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {**body, "onboarding_courses": []}


def test_posting_an_existing_team_answers_200_updating_the_given_fields(hr, team):
    response = hr.post("/api/v1/teams/", {"slug": "apac-rtm", "name": "APAC"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "APAC"
    assert response.json()["leads"] == ["lena"]  # not given, so kept
    assert Team.objects.count() == 1


def test_posting_a_team_with_an_unknown_lead_answers_400_naming_leads(hr, sdk):
    body = {"slug": "t", "name": "T", "leads": ["ghost"]}
    response = hr.post("/api/v1/teams/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"leads": ["Unknown user: ghost."]}
    assert not Team.objects.exists()


def test_posting_a_team_with_an_unknown_sdk_answers_400_naming_sdks(hr, db):
    response = hr.post(
        "/api/v1/teams/", {"slug": "t", "name": "T", "sdks": ["nope"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"sdks": ["Unknown SDK: nope."]}


@pytest.mark.parametrize(
    ("body", "field"), [({"slug": "t"}, "name"), ({"slug": "not a slug", "name": "T"}, "slug")]
)
def test_posting_an_invalid_team_answers_400_naming_the_field(hr, db, body, field):
    response = hr.post("/api/v1/teams/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_teams_need_a_token_with_the_people_scope(anon, catalog, team):
    assert anon.get("/api/v1/teams/").status_code == 401
    assert catalog.get("/api/v1/teams/").status_code == 403
    assert (
        catalog.post("/api/v1/teams/", {"slug": "x", "name": "X"}, format="json").status_code == 403
    )
    assert catalog.patch("/api/v1/teams/apac-rtm/", {"name": "X"}, format="json").status_code == 403


def test_a_signed_in_person_who_is_not_staff_cannot_read_the_directory(engineer):
    client = APIClient()
    client.force_authenticate(engineer.user)
    assert client.get("/api/v1/teams/").status_code == 403
    assert client.get("/api/v1/engineers/alice/").status_code == 403


def test_listing_teams_takes_the_same_queries_for_many_teams(hr, team):
    hr.get("/api/v1/teams/")
    with CaptureQueriesContext(connection) as one:
        assert hr.get("/api/v1/teams/").json()["count"] == 1
    for _ in range(4):
        TeamFactory(sdks=[SdkFactory()], leads=[UserFactory()])
    with CaptureQueriesContext(connection) as five:
        assert hr.get("/api/v1/teams/").json()["count"] == 5
    assert len(five) == len(one)


def test_reading_a_team_shows_its_sdks_and_leads(hr, team):
    body = hr.get("/api/v1/teams/apac-rtm/").json()
    assert (body["sdks"], body["leads"]) == (["rtm-android"], ["lena"])


def test_reading_or_patching_an_unknown_team_answers_404(hr, db):
    assert hr.get("/api/v1/teams/nope/").status_code == 404
    assert hr.patch("/api/v1/teams/nope/", {"name": "X"}, format="json").status_code == 404


def test_patching_a_team_changes_only_the_given_fields(hr, team):
    CourseFactory(slug="welcome")
    UserFactory(username="lars")
    response = hr.patch(
        "/api/v1/teams/apac-rtm/",
        {"leads": ["lena", "lars"], "onboarding_courses": ["welcome"]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["leads"] == ["lars", "lena"]
    assert body["onboarding_courses"] == ["welcome"]
    assert (body["name"], body["sdks"]) == ("APAC RTM", ["rtm-android"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"onboarding_courses": ["nope"]}, "onboarding_courses"),
        ({"name": ""}, "name"),
        ({"sdks": "rtm-android"}, "sdks"),
    ],
)
def test_patching_a_team_with_invalid_input_answers_400_naming_the_field(hr, team, body, field):
    response = hr.patch("/api/v1/teams/apac-rtm/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_team_that_takes_on_an_sdk_gets_its_open_releases_training(
    hr, engineer, django_capture_on_commit_callbacks
):
    web = SdkFactory(slug="rtm-web")
    release = ReleaseFactory(sdk=web, status="published")
    course = CourseFactory(release=release)
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.patch(
            "/api/v1/teams/apac-rtm/", {"sdks": ["rtm-android", "rtm-web"]}, format="json"
        )
    assert response.status_code == 200
    assert Assignment.objects.filter(engineer=engineer, course=course).exists()


# --- engineers ----------------------------------------------------------------


def test_posting_a_new_engineer_creates_the_user_too(hr, team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post("/api/v1/engineers/", ALICE, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {
        **ALICE,
        "language": "en",
        "active": True,
        "shift": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"},
        "shift_is_default": True,
        "time_off": [],
    }
    user = User.objects.get(username="alice")
    assert (user.first_name, user.last_name, user.email) == ("Alice", "Chen", "alice@example.com")
    assert not user.has_usable_password()
    assert user.engineer.team == team


def test_posting_the_same_username_answers_200_updating_only_the_given_fields(hr, team):
    hr.post("/api/v1/engineers/", ALICE, format="json")
    response = hr.post(
        "/api/v1/engineers/",
        {"username": "alice", "tier": "L2", "language": "zh-hans"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["tier"], body["language"]) == ("L2", "zh-hans")
    assert (body["timezone"], body["name"], body["team"]) == (
        "Asia/Shanghai",
        "Alice Chen",
        "apac-rtm",
    )
    assert Engineer.objects.count() == 1
    assert User.objects.filter(username="alice").count() == 1


def test_posting_an_engineer_for_an_existing_user_reuses_the_user(hr, lead):
    response = hr.post("/api/v1/engineers/", {"username": "lena", "region": "EMEA"}, format="json")
    assert response.status_code == 201
    assert Engineer.objects.get().user == lead
    assert lead.has_usable_password()


def test_upserting_one_username_twice_makes_one_user_and_one_engineer(team):
    first, created = engineer_upsert(username="bob", region="AMER", actor=SYSTEM)
    again, created_again = engineer_upsert(username="bob", region="AMER", actor=SYSTEM)
    assert (created, created_again, first.pk) == (True, False, again.pk)
    assert User.objects.filter(username="bob").count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus"),
        ("region", "LATAM"),
        ("tier", "L9"),
        ("language", "fr"),
        ("team", "nope"),
        ("email", "not-an-email"),
        ("username", "has space"),
        ("active", "maybe"),
    ],
)
def test_posting_an_invalid_engineer_answers_400_naming_the_field(hr, team, field, value):
    response = hr.post("/api/v1/engineers/", {**ALICE, field: value}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Engineer.objects.exists()


def test_a_bad_timezone_is_refused_even_for_an_existing_engineer(hr, engineer):
    response = hr.post(
        "/api/v1/engineers/", {"username": "alice", "timezone": "Nowhere"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "timezone": ["'Nowhere' is not an IANA time zone (e.g. Asia/Shanghai)."]
    }


def test_a_new_engineer_needs_a_region(hr, team):
    response = hr.post("/api/v1/engineers/", {"username": "zoe"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["region"]


def test_a_new_engineer_in_a_team_gets_the_team_backlog(
    hr, team, open_release, django_capture_on_commit_callbacks
):
    team.onboarding_courses.add(CourseFactory(slug="welcome"))
    with django_capture_on_commit_callbacks(execute=True):
        hr.post("/api/v1/engineers/", ALICE, format="json")
    courses = set(
        Assignment.objects.filter(engineer__user__username="alice").values_list(
            "course__slug", "reason"
        )
    )
    assert courses == {("welcome", "onboarding"), ("rtm-android-2-4", "release")}


def test_reading_an_engineer(hr, engineer):
    body = hr.get("/api/v1/engineers/alice/").json()
    assert body["username"] == "alice"
    assert (body["name"], body["team"], body["region"]) == ("Alice Chen", "apac-rtm", "APAC")


def test_usernames_with_dots_and_at_signs_are_addressable(hr, team):
    username = "a.b+c-d@example.com"
    assert (
        hr.post(
            "/api/v1/engineers/", {"username": username, "region": "EMEA"}, format="json"
        ).status_code
        == 201
    )
    assert hr.get(f"/api/v1/engineers/{username}/").json()["username"] == username


def test_reading_or_patching_an_unknown_engineer_answers_404(hr, db):
    assert hr.get("/api/v1/engineers/ghost/").status_code == 404
    assert hr.patch("/api/v1/engineers/ghost/", {"active": False}, format="json").status_code == 404
    assert hr.get("/api/v1/engineers/ghost/skills/").status_code == 404


def test_engineers_need_a_token_with_the_people_scope(anon, catalog, engineer):
    assert anon.get("/api/v1/engineers/").status_code == 401
    assert anon.post("/api/v1/engineers/", ALICE, format="json").status_code == 401
    assert catalog.get("/api/v1/engineers/alice/").status_code == 403
    assert catalog.post("/api/v1/engineers/", ALICE, format="json").status_code == 403
    assert (
        catalog.patch("/api/v1/engineers/alice/", {"tier": "L2"}, format="json").status_code == 403
    )


def test_listing_engineers_filters_by_team_region_and_active(hr, engineer, outsider):
    EngineerFactory(user=UserFactory(username="ann"), team=engineer.team, active=False)

    def names(query: str) -> list[str]:
        return [e["username"] for e in hr.get(f"/api/v1/engineers/{query}").json()["results"]]

    assert names("") == ["alice", "ann", "oscar"]
    assert names("?team=apac-rtm") == ["alice", "ann"]
    assert names("?region=EMEA") == ["oscar"]
    assert names("?active=false") == ["ann"]
    assert names("?team=apac-rtm&active=true") == ["alice"]


def test_listing_engineers_with_a_bad_region_answers_400(hr, db):
    response = hr.get("/api/v1/engineers/?region=MARS")
    assert response.status_code == 400
    assert list(response.json()) == ["region"]


def test_listing_engineers_takes_the_same_queries_for_many_engineers(hr, engineer):
    hr.get("/api/v1/engineers/")
    with CaptureQueriesContext(connection) as one:
        hr.get("/api/v1/engineers/")
    EngineerFactory.create_batch(5)
    with CaptureQueriesContext(connection) as six:
        assert hr.get("/api/v1/engineers/").json()["count"] == 6
    assert len(six) == len(one)


def test_patching_active_false_deactivates_the_engineer(hr, engineer):
    response = hr.patch("/api/v1/engineers/alice/", {"active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["active"] is False
    engineer.refresh_from_db()
    assert not engineer.active


def test_patching_team_null_takes_the_engineer_off_every_team(hr, engineer):
    response = hr.patch("/api/v1/engineers/alice/", {"team": None}, format="json")
    assert response.json()["team"] is None


@pytest.mark.parametrize(
    ("field", "value"), [("timezone", "Asia/Nowhere"), ("tier", "L0"), ("team", "nope")]
)
def test_patching_an_engineer_with_invalid_input_answers_400_naming_the_field(
    hr, engineer, field, value
):
    response = hr.patch("/api/v1/engineers/alice/", {field: value}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_moving_an_engineer_to_a_new_team_assigns_its_open_releases(
    hr, outsider, team, open_release, django_capture_on_commit_callbacks
):
    assert not Assignment.objects.filter(engineer=outsider).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.patch("/api/v1/engineers/oscar/", {"team": "apac-rtm"}, format="json")
    assert response.status_code == 200
    assignment = Assignment.objects.get(engineer=outsider)
    assert (assignment.release, assignment.reason) == (open_release, "release")


def test_reactivating_an_engineer_assigns_their_backlog(
    hr, engineer, open_release, django_capture_on_commit_callbacks
):
    hr.patch("/api/v1/engineers/alice/", {"active": False}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        hr.patch("/api/v1/engineers/alice/", {"active": True}, format="json")
    assert Assignment.objects.filter(engineer=engineer, release=open_release).exists()


def test_an_update_that_changes_no_team_queues_nothing(
    hr, engineer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        hr.patch("/api/v1/engineers/alice/", {"tier": "L3"}, format="json")
    assert callbacks == []


# --- skills -------------------------------------------------------------------


@pytest.fixture
def records(engineer):
    SkillRecordFactory(engineer=engineer, skill=SkillFactory(slug="push", name="Push"), level=2)
    SkillRecordFactory(engineer=engineer, skill=SkillFactory(slug="acks", name="Acks"), level=4)


def test_an_engineers_skills_lists_their_records(hr, records):
    response = hr.get("/api/v1/engineers/alice/skills/")
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert (first["skill"], first["name"], first["level"], first["level_name"]) == (
        "acks",
        "Acks",
        4,
        "Expert",
    )
    assert (second["skill"], second["level"], second["evidence"]) == ("push", 2, None)
    assert second["verified_at"].endswith("Z")


def test_an_engineers_skills_need_the_people_scope(anon, catalog, records):
    assert anon.get("/api/v1/engineers/alice/skills/").status_code == 401
    assert catalog.get("/api/v1/engineers/alice/skills/").status_code == 403


def test_an_engineer_signed_in_reads_their_own_skills_but_no_one_elses(engineer, outsider, records):
    client = APIClient()
    client.force_authenticate(engineer.user)
    assert client.get("/api/v1/engineers/alice/skills/").json()["count"] == 2
    client.force_authenticate(outsider.user)
    assert client.get("/api/v1/engineers/alice/skills/").status_code == 404


def test_a_lead_signed_in_reads_their_teams_skills_but_not_another_teams(
    lead, engineer, outsider, records
):
    client = APIClient()
    client.force_authenticate(lead)
    assert client.get("/api/v1/engineers/alice/skills/").json()["count"] == 2
    assert client.get("/api/v1/engineers/oscar/skills/").status_code == 404


def test_staff_signed_in_read_anyones_skills(staff, records):
    client = APIClient()
    client.force_authenticate(staff)
    assert client.get("/api/v1/engineers/alice/skills/").json()["count"] == 2


def test_an_engineer_created_meanwhile_by_another_sync_is_updated_not_duplicated(engineer):
    # Simulate losing the race: the first lookups miss the row another request made.
    missed_user = User.objects.none()
    with (
        mock.patch.object(
            Engineer.objects,
            "select_for_update",
            side_effect=[Engineer.objects.none(), Engineer.objects.select_for_update()],
        ),
        mock.patch.object(User.objects, "filter", side_effect=[missed_user]),
    ):
        again, created = engineer_upsert(username="alice", tier="L3", region="APAC", actor=SYSTEM)
    assert (created, again.pk, again.tier) == (False, engineer.pk, "L3")
    assert Engineer.objects.count() == 1


# --- shifts and time off ----------------------------------------------------------


def test_an_engineer_without_a_shift_reads_their_regions_default(hr, team):
    hr.post(
        "/api/v1/engineers/",
        {"username": "amy", "team": team.slug, "region": "AMER"},
        format="json",
    )
    body = hr.get("/api/v1/engineers/amy/").json()
    assert body["shift"] == {
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "start": "09:00",
        "end": "18:00",
    }
    assert body["shift_is_default"] is True
    assert body["time_off"] == []


def test_posting_a_shift_and_time_off_sets_them_and_null_resets_the_shift(hr, team):
    response = hr.post(
        "/api/v1/engineers/",
        {
            "username": "nina",
            "team": team.slug,
            "region": "EMEA",
            "timezone": "Europe/Berlin",
            "shift": {"days": ["sat", "sun"], "start": "22:00", "end": "06:00"},
            "time_off": [{"start": "2026-12-20", "end": "2026-12-27"}],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["shift"] == {"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}
    assert body["shift_is_default"] is False
    assert body["time_off"] == [{"start": "2026-12-20", "end": "2026-12-27"}]
    patched = hr.patch(
        "/api/v1/engineers/nina/", {"shift": None, "time_off": []}, format="json"
    ).json()
    assert patched["shift_is_default"] is True and patched["time_off"] == []


@pytest.mark.parametrize(
    "shift, time_off",
    [
        ({"days": ["someday"], "start": "09:00", "end": "18:00"}, None),
        ({"days": [], "start": "09:00", "end": "18:00"}, None),
        ({"days": ["mon"], "start": "9am", "end": "18:00"}, None),
        ({"days": ["mon"], "start": "09:00", "end": "09:00"}, None),
        (None, [{"start": "2026-12-27", "end": "2026-12-20"}]),
        (None, [{"start": "2026-01-01", "end": "2028-01-01"}]),
        (None, [{"start": "2026-13-01", "end": "2026-12-20"}]),
    ],
)
def test_an_invalid_shift_or_time_off_answers_400_naming_it(hr, engineer, shift, time_off):
    body = {"shift": shift} if shift is not None else {"time_off": time_off}
    response = hr.patch(f"/api/v1/engineers/{engineer.username}/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"shift" if shift is not None else "time_off"}
    engineer.refresh_from_db()
    assert engineer.shift_days is None and not engineer.time_off.exists()
