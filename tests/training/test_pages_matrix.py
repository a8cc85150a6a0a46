"""The lead pages: skill matrix, its CSV export, the expert finder."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from courses.models import Skill
from tests.factories import (
    EngineerFactory,
    SdkFactory,
    SkillFactory,
    SkillRecordFactory,
    TeamFactory,
    UserFactory,
)
from training.models import Engineer, SkillRecord
from training.views.matrix import csv_safe

MATRIX = reverse("team_matrix")
CSV = reverse("team_matrix_csv")
EXPERTS = reverse("team_experts")


@pytest.fixture
def lead_client(client, lead, team):
    client.force_login(lead)
    return client


@pytest.fixture
def push(db):
    return SkillFactory(slug="push", name="Push notifications")


def read_csv(response) -> list[dict]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


# --- The heat map -------------------------------------------------------------------


def test_the_matrix_shows_levels_as_text_stale_records_and_a_legend(
    lead_client, engineer, push, settings
):
    settings.PREFLIGHT_SKILL_VALID_DAYS = 30
    ordering = SkillFactory(slug="message-ordering", name="Message ordering")
    SkillRecordFactory(engineer=engineer, skill=push, level=3)
    SkillRecordFactory(
        engineer=engineer, skill=ordering, level=4, verified_at=timezone.now() - timedelta(days=60)
    )

    response = lead_client.get(MATRIX)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<caption" in page and 'scope="col"' in page and 'scope="row"' in page
    assert "Alice Chen" in page
    assert 'class="heat level-3"' in page and '3<span class="visually-hidden"> Proficient' in page
    assert 'class="heat level-4 stale"' in page and "(4)" in page
    assert "Stale: not verified recently" in page  # the legend
    assert f"{EXPERTS}?skill=push" in page  # a skill's header finds its experts
    assert response.context["matrix"].holders == [0, 1]


def test_a_cell_without_a_record_is_blank_and_the_legend_says_so(
    lead_client, engineer, push, settings
):
    settings.PREFLIGHT_SKILL_VALID_DAYS = 30
    SkillFactory(slug="reconnection", name="Reconnection")  # Alice has no record in it
    SkillRecordFactory(
        engineer=engineer, skill=push, level=4, verified_at=timezone.now() - timedelta(days=60)
    )

    page = lead_client.get(MATRIX).content.decode()

    body = page[page.index("<tbody>") : page.index("</tbody>")]
    # A stale level still reads as its level, and as stale, to a screen reader.
    assert '(4)<span class="visually-hidden"> Expert, stale</span></td><td></td>' in body
    assert "heat-empty" not in body
    assert "Blank: no record" in page  # the legend


def test_the_matrix_cells_and_legend_read_in_chinese(client, lead, engineer, push):
    SkillRecordFactory(engineer=engineer, skill=push, level=3)
    client.force_login(lead)

    page = client.get(MATRIX, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '3<span class="visually-hidden"> 熟练</span>' in page
    assert 'title="熟练, 验证于 ' in page
    assert "空白：无记录" in page  # noqa: RUF001 -- Chinese uses a full-width colon


def test_the_matrix_of_a_lead_shows_only_their_teams(lead_client, engineer, outsider):
    page = lead_client.get(MATRIX).content.decode()
    assert "alice" in page
    assert "oscar" not in page
    assert "emea-web" not in page  # not even as a filter choice


def test_staff_see_every_team(client, staff, engineer, outsider):
    client.force_login(staff)
    rows = client.get(MATRIX).context["matrix"].rows
    assert [r.engineer.username for r in rows] == ["alice", "oscar"]


def test_the_filters_narrow_the_matrix(client, lead, team, engineer, sdk):
    second = TeamFactory(slug="amer-rtm", sdks=[SdkFactory(slug="rtm-ios")], leads=[lead])
    EngineerFactory(
        user=UserFactory(username="amy"),
        team=second,
        region="AMER",
        tier="L3",
        timezone="America/New_York",
    )
    client.force_login(lead)

    def rows(**query):
        response = client.get(MATRIX, query)
        assert response.status_code == 200
        return [r.engineer.username for r in response.context["matrix"].rows]

    assert rows() == ["amy", "alice"]  # by team: amer-rtm, apac-rtm
    assert rows(team="apac-rtm") == ["alice"]
    assert rows(sdk="rtm-ios") == ["amy"]
    assert rows(region="APAC") == ["alice"]
    assert rows(tier="L3") == ["amy"]
    assert rows(team="apac-rtm", tier="L3") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"region": "MARS"}, "region"),
        ({"tier": "L9"}, "tier"),
        ({"sdk": "no-such-sdk"}, "sdk"),
    ],
)
def test_an_invalid_filter_is_a_form_error(lead_client, engineer, query, field):
    response = lead_client.get(MATRIX, query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "Select a valid choice" in response.content.decode()
    assert response.context["matrix"] is None


def test_an_sdk_of_another_team_is_not_a_choice(lead_client, engineer, outsider):
    response = lead_client.get(MATRIX, {"sdk": "rtm-web"})
    assert response.status_code == 400


def test_an_empty_filter_result_says_so(lead_client, engineer):
    response = lead_client.get(MATRIX, {"region": "AMER"})
    assert response.status_code == 200
    assert "No engineers match" in response.content.decode()


# --- Who may see it ----------------------------------------------------------------


@pytest.mark.parametrize("url", [MATRIX, CSV, EXPERTS])
def test_another_teams_page_is_a_404(lead_client, engineer, outsider, url):
    assert lead_client.get(url, {"team": "emea-web"}).status_code == 404
    assert lead_client.get(url, {"team": "no-such-team"}).status_code == 404


@pytest.mark.parametrize("url", [MATRIX, CSV, EXPERTS])
def test_an_engineer_sees_none_of_it(client, engineer, url):
    client.force_login(engineer.user)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [MATRIX, CSV, EXPERTS])
def test_a_lead_of_no_team_sees_none_of_it(client, db, url):
    client.force_login(UserFactory(username="nolead"))
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [MATRIX, CSV, EXPERTS])
def test_signed_out_visitors_are_sent_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_pages_answer_get_only(lead_client):
    assert lead_client.post(MATRIX).status_code == 405
    assert lead_client.post(CSV).status_code == 405


# --- CSV export ----------------------------------------------------------------------


def test_the_csv_is_streamed_as_an_attachment_with_one_row_per_engineer(
    lead_client, team, engineer, push, outsider, settings
):
    settings.PREFLIGHT_SKILL_VALID_DAYS = 30
    bob = EngineerFactory(
        user=UserFactory(username="bob", first_name="Bob", last_name="Li"),
        team=team,
        region="EMEA",
        tier="L2",
        timezone="Europe/London",
    )
    SkillRecordFactory(engineer=engineer, skill=push, level=3)
    stale = SkillFactory(slug="reconnection")
    SkillRecordFactory(
        engineer=bob, skill=stale, level=4, verified_at=timezone.now() - timedelta(days=31)
    )

    response = lead_client.get(CSV)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="skill-matrix-')
    rows = read_csv(response)
    assert list(rows[0]) == ["username", "name", "team", "region", "tier", "push", "reconnection"]
    assert rows == [
        {"username": "alice", "name": "Alice Chen", "team": "apac-rtm", "region": "APAC",
         "tier": "L1", "push": "3", "reconnection": ""},
        {"username": "bob", "name": "Bob Li", "team": "apac-rtm", "region": "EMEA",
         "tier": "L2", "push": "", "reconnection": ""},  # a stale level does not count
    ]  # fmt: skip


def test_the_csv_takes_the_same_filters(lead_client, team, engineer, outsider):
    EngineerFactory(user=UserFactory(username="bob"), team=team, region="EMEA")
    assert [r["username"] for r in read_csv(lead_client.get(CSV, {"region": "EMEA"}))] == ["bob"]
    response = lead_client.get(CSV, {"team": "apac-rtm"})
    assert 'filename="skill-matrix-apac-rtm-' in response["Content-Disposition"]
    assert [r["username"] for r in read_csv(response)] == ["alice", "bob"]


def test_the_csv_with_an_invalid_filter_is_a_400_naming_it(lead_client, engineer):
    response = lead_client.get(CSV, {"region": "MARS"})
    assert response.status_code == 400
    assert response.content.decode().startswith("region: Select a valid choice")


def test_the_csv_defuses_spreadsheet_formulas(lead_client, team):
    EngineerFactory(
        user=UserFactory(username="mallory", first_name='=HYPERLINK("http://x")', last_name=""),
        team=team,
    )
    EngineerFactory(user=UserFactory(username="plain", first_name="-5", last_name="+1"), team=team)
    rows = {r["username"]: r for r in read_csv(lead_client.get(CSV))}
    assert rows["mallory"]["name"] == '\'=HYPERLINK("http://x")'
    assert rows["plain"]["name"] == "'-5 +1"


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_safe_prefixes_formula_starts(value):
    assert csv_safe(value) == "'" + value


def test_csv_safe_leaves_ordinary_values_and_numbers(db):
    assert csv_safe("alice") == "alice"
    assert csv_safe(3) == 3
    assert csv_safe("") == ""


# --- Expert finder -------------------------------------------------------------------


def test_the_expert_finder_lists_proficient_engineers_of_my_teams(
    lead_client, team, engineer, outsider, push
):
    SkillRecordFactory(engineer=engineer, skill=push, level=4)
    SkillRecordFactory(engineer=outsider, skill=push, level=4)  # another team's
    novice = EngineerFactory(user=UserFactory(username="nico"), team=team)
    SkillRecordFactory(engineer=novice, skill=push, level=2)

    response = lead_client.get(EXPERTS, {"skill": "push"})

    assert response.status_code == 200
    assert [e.engineer.username for e in response.context["found"]] == ["alice"]
    page = response.content.decode()
    assert "Alice Chen" in page and "Asia/Shanghai" in page
    assert "oscar" not in page and "nico" not in page


def test_the_expert_finder_shows_local_time_and_working_status(
    lead_client, engineer, push, time_machine
):
    time_machine.move_to("2026-11-24T02:00:00Z", tick=False)
    SkillRecordFactory(engineer=engineer, skill=push, level=3)
    page = lead_client.get(EXPERTS, {"skill": "push"}).content.decode()
    assert "Tue 10:00" in page  # Shanghai, not UTC
    assert "At work" in page


def test_the_expert_finder_without_a_skill_shows_the_form(lead_client, push):
    response = lead_client.get(EXPERTS)
    assert response.status_code == 200
    assert response.context["found"] is None
    assert "Push notifications (push)" in response.content.decode()


@pytest.mark.parametrize(
    "query", [{"skill": "nope"}, {"skill": ""}, {"skill": "push", "region": "X"}]
)
def test_the_expert_finder_with_invalid_input_is_a_form_error(lead_client, push, query):
    response = lead_client.get(EXPERTS, query)
    assert response.status_code == 400
    assert response.context["form"].errors


# --- Query counts ---------------------------------------------------------------------


def populate(team, *, engineers: int, skills: int) -> None:
    """`engineers` engineers on `team`, each with a record in every skill (bulk)."""
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"bulk{i:04d}", first_name="Bulk", last_name=str(i), password="!")
        for i in range(engineers)
    )
    rows = Engineer.objects.bulk_create(
        Engineer(user=user, team=team, region=("APAC", "EMEA", "AMER")[i % 3], tier="L2",
                 timezone="UTC", calendar_token=f"bulk-{i}")
        for i, user in enumerate(users)
    )  # fmt: skip
    catalog = Skill.objects.bulk_create(
        Skill(slug=f"bulk-skill-{j:02d}", name=f"Skill {j}") for j in range(skills)
    )
    old = timezone.now() - timedelta(days=1000)
    SkillRecord.objects.bulk_create(
        SkillRecord(engineer=e, skill=s, level=(i + j) % 4 + 1,
                    verified_at=old if (i + j) % 5 == 0 else timezone.now())
        for i, e in enumerate(rows)
        for j, s in enumerate(catalog)
    )  # fmt: skip


# Session, user, "is a lead", the filter form's choice validation and its two
# choice lists, engineers, skills, records, and the nav's role check: 11 today,
# the same at 10 and at 500 engineers.
MAX_QUERIES = 12


@pytest.mark.parametrize("engineers", [10, 500])
def test_the_matrix_page_query_count_does_not_grow_with_engineers(
    lead_client, team, sdk, engineers, django_assert_max_num_queries
):
    populate(team, engineers=engineers, skills=24)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = lead_client.get(MATRIX, {"team": "apac-rtm", "sdk": "rtm-android"})
    matrix = response.context["matrix"]
    # One page of rows; the count and the holders speak for every engineer.
    assert len(matrix.rows) == min(engineers, 50)
    assert matrix.page.total == engineers
    assert sum(matrix.holders) == sum(
        1
        for record in SkillRecord.objects.filter(level__gte=3)
        if record.verified_at >= timezone.now() - timedelta(days=365)
    )
    with django_assert_max_num_queries(MAX_QUERIES):
        response = lead_client.get(MATRIX, {"q": "bulk", "tier": "L2", "page": 10**20})
    assert response.context["matrix"].page.number == response.context["matrix"].page.num_pages


@pytest.mark.parametrize("engineers", [10, 500])
def test_the_csv_query_count_does_not_grow_with_engineers(
    lead_client, team, sdk, engineers, django_assert_max_num_queries
):
    populate(team, engineers=engineers, skills=24)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = lead_client.get(CSV, {"team": "apac-rtm", "tier": "L2"})
        rows = read_csv(response)  # the queries run as the stream is consumed
    assert len(rows) == engineers
    assert len(rows[0]) == 5 + 24


@pytest.mark.parametrize("engineers", [10, 500])
def test_the_expert_finder_query_count_does_not_grow_with_engineers(
    lead_client, team, engineers, django_assert_max_num_queries
):
    populate(team, engineers=engineers, skills=3)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = lead_client.get(EXPERTS, {"skill": "bulk-skill-01"})
    assert response.context["found"]
