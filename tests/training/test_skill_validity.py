"""How long a skill record counts: "valid until" for the engineer and for leads."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tests.factories import EngineerFactory, SkillFactory, SkillRecordFactory, TeamFactory
from training.selectors import skill_valid_until

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine, settings):
    settings.PREFLIGHT_SKILL_VALID_DAYS = 365
    settings.PREFLIGHT_RECERTIFY_DAYS = 30
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def push(db):
    return SkillFactory(slug="push", name="Push notifications")


def verified_to_expire_at(expiry: datetime) -> datetime:
    return expiry - timedelta(days=365)


@pytest.fixture
def signed_in(client, engineer):
    client.force_login(engineer.user)
    return client


def test_valid_until_is_verified_at_plus_the_validity(settings):
    verified = datetime(2026, 1, 10, 20, 0, tzinfo=UTC)
    assert skill_valid_until(verified) == datetime(2027, 1, 10, 20, 0, tzinfo=UTC)


def test_my_skills_shows_valid_until_in_the_engineers_time_zone(signed_in, engineer, push):
    # 20:00 UTC on 10 Dec is 04:00 on 11 Dec in Shanghai, Alice's zone.
    expiry = datetime(2026, 12, 10, 20, 0, tzinfo=UTC)
    SkillRecordFactory(
        engineer=engineer, skill=push, level=3, verified_at=verified_to_expire_at(expiry)
    )
    page = signed_in.get(reverse("skills")).text
    assert "Valid until" in page
    assert "11 Dec 2026" in page
    # 16 days 18 hours away: within the recertification window, rounded down.
    assert "expires in 16 days" in page


def test_my_skills_says_expired_once_the_record_no_longer_counts(signed_in, engineer, push):
    SkillRecordFactory(
        engineer=engineer, skill=push, level=3, verified_at=NOW - timedelta(days=400)
    )
    page = signed_in.get(reverse("skills")).text
    assert 'badge-overdue">expired<' in page
    assert "expires in" not in page


def test_my_skills_says_nothing_more_while_expiry_is_far(signed_in, engineer, push):
    SkillRecordFactory(engineer=engineer, skill=push, level=3, verified_at=NOW - timedelta(days=10))
    page = signed_in.get(reverse("skills")).text
    assert "expires in" not in page and ">expired<" not in page
    assert "14 Nov 2027" in page  # NOW + 355 days, in Shanghai


def test_my_skills_in_chinese_says_when_it_expires(signed_in, engineer, push):
    engineer.language = "zh-hans"
    engineer.save(update_fields=["language"])
    SkillRecordFactory(
        engineer=engineer, skill=push, level=3, verified_at=NOW - timedelta(days=360)
    )
    page = signed_in.get(reverse("skills")).text
    assert "expires in" not in page
    assert "5 天后过期" in page


@pytest.fixture
def tokyo_lead(lead, team):
    """The lead with a profile of their own, in Tokyo: pages render in that zone."""
    EngineerFactory(user=lead, team=TeamFactory(slug="lead-team"), timezone="Asia/Tokyo")
    return lead


def test_the_matrix_cell_title_says_until_when_the_level_counts(client, tokyo_lead, engineer, push):
    # 16:00 UTC on 10 Dec is 01:00 on 11 Dec in Tokyo, the lead's zone.
    expiry = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    SkillRecordFactory(
        engineer=engineer, skill=push, level=3, verified_at=verified_to_expire_at(expiry)
    )
    SkillRecordFactory(
        engineer=engineer,
        skill=SkillFactory(slug="reconnection", name="Reconnection"),
        level=2,
        verified_at=NOW - timedelta(days=400),
    )
    client.force_login(tokyo_lead)
    page = client.get(reverse("team_matrix")).text
    assert 'title="Proficient, verified 11 Dec 2025, valid until 11 Dec 2026"' in page
    assert 'title="Practitioner (stale), verified 20 Oct 2025, expired 20 Oct 2026"' in page


def test_the_expert_finder_says_until_when_each_expert_counts(client, tokyo_lead, engineer, push):
    expiry = datetime(2026, 12, 10, 16, 0, tzinfo=UTC)
    SkillRecordFactory(
        engineer=engineer, skill=push, level=3, verified_at=verified_to_expire_at(expiry)
    )
    client.force_login(tokyo_lead)
    page = client.get(reverse("team_experts"), {"skill": "push"}).text
    assert "Valid until" in page
    assert "11 Dec 2026" in page  # in Tokyo, not in Alice's Shanghai
    assert "expires in 16 days" in page


def test_the_skills_api_gives_valid_until(token_client, engineer, push):
    SkillRecordFactory(
        engineer=engineer,
        skill=push,
        level=3,
        verified_at=datetime(2026, 1, 10, 20, 0, tzinfo=UTC),
    )
    body = token_client("people").get("/api/v1/engineers/alice/skills/").json()
    assert body["results"][0]["valid_until"] == "2027-01-10T20:00:00Z"
