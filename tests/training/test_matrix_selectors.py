"""The skill matrix and the expert finder, as selectors."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import (
    EngineerFactory,
    SdkFactory,
    SkillFactory,
    SkillRecordFactory,
    UserFactory,
)
from training.models import Team
from training.selectors.access import visible_teams as teams_visible_to
from training.selectors.matrix import (
    experts,
    is_working_time,
    next_working_start,
    skill_matrix,
    zone_of,
)

# A Tuesday: 10:00 in Shanghai, 21:00 on Monday in New York, 03:00 in Berlin.
TUESDAY_0200Z = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def engineer_on(team, username, **kwargs):
    return EngineerFactory(user=UserFactory(username=username), team=team, **kwargs)


@pytest.fixture
def push(db):
    return SkillFactory(slug="push", name="Push")


def test_a_current_record_is_a_level_and_an_old_one_is_stale(team, engineer, push, settings):
    settings.PREFLIGHT_SKILL_VALID_DAYS = 30
    ordering = SkillFactory(slug="message-ordering")
    SkillRecordFactory(engineer=engineer, skill=push, level=3)
    SkillRecordFactory(
        engineer=engineer,
        skill=ordering,
        level=4,
        verified_at=timezone.now() - timedelta(days=31),
    )

    matrix = skill_matrix(teams=Team.objects.all())

    assert [s.slug for s in matrix.skills] == ["message-ordering", "push"]
    (row,) = matrix.rows
    stale, current = row.cells
    assert (current.level, current.stale, current.current_level) == (3, False, 3)
    assert (stale.level, stale.stale, stale.current_level) == (4, True, None)
    assert stale.label == "Expert"


def test_records_of_one_kind_share_one_cell(team, engineer, push):
    ordering = SkillFactory(slug="message-ordering")
    bob = engineer_on(team, "bob")
    for person in (engineer, bob):
        for skill in (push, ordering):
            SkillRecordFactory(engineer=person, skill=skill, level=2)
    SkillRecordFactory(engineer=engineer, skill=SkillFactory(slug="reconnection"), level=3)

    alice, bob_row = skill_matrix(teams=[team]).rows

    # Same level, day and staleness: one cell, so the page renders it once.
    assert len({id(cell) for cell in [*alice.cells[:2], *bob_row.cells[:2]]}) == 1
    assert alice.cells[2].level == 3 and bob_row.cells[2].level is None


def test_a_row_names_the_engineer_by_full_name_or_else_username(team, engineer):
    EngineerFactory(user=UserFactory(username="nameless", first_name="", last_name=""), team=team)

    rows = {row.engineer.username: row.engineer for row in skill_matrix(teams=[team]).rows}

    assert rows["alice"].name == "Alice Chen"
    assert (rows["alice"].team_slug, rows["alice"].region, rows["alice"].tier) == (
        "apac-rtm",
        "APAC",
        "L1",
    )
    assert rows["nameless"].name == "nameless"


def test_every_skill_is_a_column_even_one_nobody_holds(team, engineer, push):
    SkillFactory(slug="reconnection")
    matrix = skill_matrix(teams=[team])
    assert [s.slug for s in matrix.skills] == ["push", "reconnection"]
    assert [cell.level for cell in matrix.rows[0].cells] == [None, None]
    assert matrix.holders == [0, 0]


def test_only_active_engineers_of_the_given_teams_are_rows(team, engineer, outsider):
    engineer_on(team, "gone", active=False)
    engineer_on(None, "teamless")
    assert [r.engineer.username for r in skill_matrix(teams=[team]).rows] == ["alice"]
    both = skill_matrix(teams=Team.objects.all())
    assert [r.engineer.username for r in both.rows] == ["alice", "oscar"]  # by team slug


def test_the_sdk_region_and_tier_filters_narrow_the_rows(team, engineer, outsider, sdk):
    engineer_on(team, "bob", region="EMEA", tier="L3", timezone="Europe/London")
    teams = Team.objects.all()
    rows = lambda **f: [r.engineer.username for r in skill_matrix(teams=teams, **f).rows]  # noqa: E731
    assert rows(sdk=sdk) == ["alice", "bob"]
    assert rows(sdk=SdkFactory(slug="rtm-web")) == ["oscar"]
    assert rows(sdk=SdkFactory(slug="unsupported")) == []
    assert rows(region="EMEA") == ["bob", "oscar"]
    assert rows(region="EMEA", tier="L3") == ["bob"]


def test_a_team_supporting_two_sdks_lists_each_engineer_once(team, engineer, sdk):
    team.sdks.add(SdkFactory(slug="rtm-ios"))
    assert len(skill_matrix(teams=Team.objects.all(), sdk=sdk).rows) == 1


def test_holders_count_current_records_at_proficient_or_above(team, engineer, push, settings):
    settings.PREFLIGHT_SKILL_VALID_DAYS = 30
    SkillRecordFactory(engineer=engineer, skill=push, level=3)
    bob = engineer_on(team, "bob")
    SkillRecordFactory(engineer=bob, skill=push, level=2)
    carol = engineer_on(team, "carol")
    SkillRecordFactory(
        engineer=carol, skill=push, level=4, verified_at=timezone.now() - timedelta(days=40)
    )
    assert skill_matrix(teams=[team]).holders == [1]


def test_the_matrix_reads_in_three_queries(team, engineer, push, django_assert_num_queries):
    SkillRecordFactory(engineer=engineer, skill=push, level=3)
    with django_assert_num_queries(3):
        skill_matrix(teams=Team.objects.filter(leads__username="lena"))


def test_leads_see_their_teams_staff_all_and_engineers_none(team, engineer, outsider, lead, staff):
    assert list(teams_visible_to(lead)) == [team]
    assert set(teams_visible_to(staff)) == set(Team.objects.all())
    assert not teams_visible_to(engineer.user).exists()


# --- Expert finder --------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "working"),
    [
        (datetime(2026, 11, 24, 9, 0), True),  # Tuesday, the first minute
        (datetime(2026, 11, 24, 17, 59), True),
        (datetime(2026, 11, 24, 18, 0), False),  # the end is not included
        (datetime(2026, 11, 24, 8, 59), False),
        (datetime(2026, 11, 28, 11, 0), False),  # Saturday
        (datetime(2026, 11, 29, 11, 0), False),  # Sunday
    ],
)
def test_working_hours_are_monday_to_friday_nine_to_six(local, working):
    assert is_working_time(local.replace(tzinfo=UTC)) is working


def test_after_friday_work_the_next_start_is_monday_morning():
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    assert next_working_start(friday_evening) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    early = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    assert next_working_start(early) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_a_bad_stored_time_zone_reads_as_utc(engineer):
    engineer.timezone = "Mars/Olympus"
    assert zone_of(engineer).key == "UTC"


@pytest.fixture
def follow_the_sun(team, push, time_machine):
    """Proficient-or-better engineers in Shanghai, New York and Berlin, at a fixed instant."""
    time_machine.move_to(TUESDAY_0200Z, tick=False)
    people = {
        "shanghai": engineer_on(team, "wei", region="APAC", timezone="Asia/Shanghai"),
        "new_york": engineer_on(team, "nora", region="AMER", timezone="America/New_York"),
        "berlin": engineer_on(team, "bert", region="EMEA", timezone="Europe/Berlin"),
        "expert_ny": engineer_on(team, "eve", region="AMER", timezone="America/New_York"),
    }
    SkillRecordFactory(engineer=people["shanghai"], skill=push, level=3)
    SkillRecordFactory(engineer=people["new_york"], skill=push, level=3)
    SkillRecordFactory(engineer=people["berlin"], skill=push, level=3)
    SkillRecordFactory(engineer=people["expert_ny"], skill=push, level=4)
    return people


def test_experts_give_local_time_and_whether_they_are_at_work(follow_the_sun, push, team):
    found = {e.engineer.username: e for e in experts(teams=[team], skill=push, now=timezone.now())}

    wei, nora = found["wei"], found["nora"]
    assert wei.local_time.strftime("%a %H:%M") == "Tue 10:00"
    assert wei.at_work and wei.back_at is None
    assert nora.local_time.strftime("%a %H:%M") == "Mon 21:00"
    assert not nora.at_work
    assert nora.back_at.strftime("%a %H:%M %Z") == "Tue 09:00 EST"


def test_experts_come_by_level_then_those_at_work_first(follow_the_sun, push, team):
    found = experts(teams=[team], skill=push, now=timezone.now())
    # Eve (Expert, off) before every Proficient; among those, Wei (at work) first.
    assert [e.engineer.username for e in found] == ["eve", "wei", "bert", "nora"]


def test_experts_leave_out_lower_levels_stale_records_inactive_and_other_teams(
    follow_the_sun, push, team, outsider, settings
):
    settings.PREFLIGHT_SKILL_VALID_DAYS = 30
    follow_the_sun["berlin"].skill_records.update(verified_at=timezone.now() - timedelta(days=31))
    follow_the_sun["new_york"].active = False
    follow_the_sun["new_york"].save()
    SkillRecordFactory(engineer=engineer_on(team, "low"), skill=push, level=2)
    SkillRecordFactory(engineer=outsider, skill=push, level=4)

    found = experts(teams=[team], skill=push, now=timezone.now())

    assert [e.engineer.username for e in found] == ["eve", "wei"]


def test_experts_filter_by_region(follow_the_sun, push, team):
    found = experts(teams=[team], skill=push, region="AMER", now=timezone.now())
    assert [e.engineer.username for e in found] == ["eve", "nora"]


def test_experts_read_in_one_query(follow_the_sun, push, team, django_assert_num_queries):
    with django_assert_num_queries(1):
        experts(teams=Team.objects.all(), skill=push, now=timezone.now())
