"""Search, filters and pages on every lead list of engineers (training.selectors.
engineer_search, training.views.listing), and the assign form's search.

The policy, one for every list: a page that is not a whole number from 1, an
unknown region, status or tier, or a NUL byte is a 400 naming the field on the
page; another lead's team is a 404; a page past the end is the last page.
"""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from core.actors import SYSTEM
from tests.factories import EngineerFactory, SkillFactory, SkillRecordFactory, UserFactory
from tests.training.test_pages_lead import (  # noqa: F401 -- fixtures
    course,
    lead_client,
    published_course,
    release,
    release_url,
)
from training.models import Assignment, Engineer
from training.selectors.engineer_search import EngineerFilter, engineers_matching, paginate
from training.services.managers import manager_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def push(db):
    return SkillFactory(slug="push", name="Push notifications")


def lists(push) -> dict[str, tuple[str, dict]]:
    return {
        "release": (release_url(), {}),
        "matrix": (reverse("team_matrix"), {}),
        "experts": (reverse("team_experts"), {"skill": push.slug}),
        "assign": (reverse("lead_assign"), {}),
    }


LISTS = ["release", "matrix", "experts", "assign"]


@pytest.fixture
def listed(lead_client, course, push, engineer):  # noqa: F811
    SkillRecordFactory(engineer=engineer, skill=push, level=4)

    def get(name: str, **query):
        url, base = lists(push)[name]
        return lead_client.get(url, {**base, **query})

    return get


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "9" * 5000])
def test_a_page_that_is_not_a_whole_number_from_one_is_a_400(listed, name, page):
    response = listed(name, page=page)
    assert response.status_code == 400
    assert "No such page:" in response.text


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("query", [{"page": "1\x00"}, {"q": "al\x00ice"}, {"team": "a\x00"}])
def test_a_nul_byte_anywhere_is_a_400(listed, name, query):
    # The middleware refuses it before the view (training.middleware); the form
    # would too (TeamSlugField, CharField's validator, IntegerField).
    assert listed(name, **query).status_code == 400


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("page", ["2", str(10**20)])
def test_a_page_past_the_end_is_the_last_page(listed, name, page):
    response = listed(name, page=page)
    assert response.status_code == 200
    assert "alice" in response.text


@pytest.mark.parametrize(
    ("name", "param"),
    [("release", "overrides_page"), ("assign", "open_page")],
)
@pytest.mark.parametrize("page", ["0", "x", "\x00"])
def test_a_bad_page_of_a_second_list_is_a_400(listed, name, param, page):
    assert listed(name, **{param: page}).status_code == 400


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize(
    "query",
    [{"region": "MARS"}, {"tier": "L9"}],
)
def test_an_odd_filter_is_a_400_and_the_list_unfiltered(listed, name, query):
    response = listed(name, **query)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text


def test_an_unknown_status_is_a_400_on_the_release_page(listed):
    assert listed("release", status="sleeping").status_code == 400


@pytest.mark.parametrize("name", LISTS)
def test_another_leads_team_is_a_404_on_every_list(listed, outsider, name):
    assert listed(name, team=outsider.team.slug).status_code == 404
    assert listed(name, team="no-such-team").status_code == 404


@pytest.mark.parametrize("name", LISTS)
def test_a_search_longer_than_100_characters_is_a_400(listed, name):
    assert listed(name, q="a" * 101).status_code == 400


@pytest.mark.parametrize("name", LISTS)
def test_every_list_searches_names_case_insensitively(listed, team, push, name):
    bob = EngineerFactory(
        user=UserFactory(username="bob", first_name="Bob", last_name="Stone"), team=team
    )
    SkillRecordFactory(engineer=bob, skill=push, level=4)
    # The list itself (the release page also names people in its coverage heat map).
    html = listed(name, q="CHEN ali").text.split("engineer-table")[-1]
    assert "Alice Chen" in html and "Bob Stone" not in html
    html = listed(name, q="stone").text.split("engineer-table")[-1]
    assert "Bob Stone" in html and "Alice Chen" not in html


def names(queryset) -> set[str]:
    return {engineer.user.username for engineer in queryset}


def test_percent_and_underscore_in_a_search_are_literal(team):
    for username in ("a_b", "axb", "100%", "1000"):
        EngineerFactory(user=UserFactory(username=username, first_name="", last_name=""), team=team)
    everyone = Engineer.objects.all()
    assert names(engineers_matching(everyone, EngineerFilter(q="_"))) == {"a_b"}
    assert names(engineers_matching(everyone, EngineerFilter(q="a_b"))) == {"a_b"}
    assert names(engineers_matching(everyone, EngineerFilter(q="%"))) == {"100%"}
    assert names(engineers_matching(everyone, EngineerFilter(q="10%"))) == set()


def test_the_filters_narrow_by_team_region_and_tier(team, outsider):
    EngineerFactory(user=UserFactory(username="ann"), team=team, region="EMEA", tier="L3")
    EngineerFactory(user=UserFactory(username="amy"), team=team, region="EMEA", tier="L1")
    everyone = Engineer.objects.all()
    wanted = EngineerFilter(team_id=team.pk, region="EMEA", tier="L3")
    assert names(engineers_matching(everyone, wanted)) == {"ann"}
    assert names(engineers_matching(everyone, EngineerFilter(region="EMEA"))) == {
        "ann",
        "amy",
        "oscar",
    }


@pytest.mark.parametrize(("number", "shown"), [(-5, 1), (1, 1), (3, 3), (4, 3), (10**20, 3)])
def test_paginate_keeps_the_page_within_the_list(number, shown):
    page = paginate(list(range(25)), number=number, per_page=10)
    assert page.number == shown
    assert page.num_pages == 3
    assert page.total == 25
    assert list(page) == list(range(25))[(shown - 1) * 10 : shown * 10]


def test_an_empty_list_has_one_empty_page():
    page = paginate([], number=7, per_page=10)
    assert (page.number, page.num_pages, page.start_index, page.end_index) == (1, 1, 0, 0)


def test_the_release_page_pages_its_engineers_and_keeps_the_search_in_its_links(
    lead_client,  # noqa: F811
    team,
    course,  # noqa: F811
):
    User = get_user_model()
    users = User.objects.bulk_create(User(username=f"eng{i:03d}") for i in range(120))
    Engineer.objects.bulk_create(
        Engineer(user=user, team=team, region="APAC", calendar_token=f"t{i}")
        for i, user in enumerate(users)
    )
    html = lead_client.get(release_url(), {"q": "eng", "page": "2"}).text
    assert html.count('<tr class="row-') == 50
    assert "51\u2013100 of 120" in html
    assert "?q=eng&amp;page=3" in html and "?q=eng&amp;page=1" in html
    html = lead_client.get(release_url(), {"q": "eng", "page": "99"}).text
    assert html.count('<tr class="row-') == 20
    assert "Page 3 of 3" in html


# --- the assign form ------------------------------------------------------------------


def _bulk(team, count: int, *, prefix: str = "bulk", region_of=lambda i: "APAC"):
    User = get_user_model()
    users = User.objects.bulk_create(
        User(username=f"{prefix}{i:04d}", first_name="Bulk", last_name=f"N{i}")
        for i in range(count)
    )
    return Engineer.objects.bulk_create(
        Engineer(user=user, team=team, region=region_of(i), calendar_token=f"{prefix}-{i}")
        for i, user in enumerate(users)
    )


def _assign(client, **extra):
    body = {"course": "push-basics", "due_at": "2099-03-01T09:00", **extra}
    return client.post(reverse("lead_assign"), body)


def test_everyone_matching_a_search_is_assigned_as_the_server_reads_it(
    lead_client,  # noqa: F811
    team,
    engineer,
    outsider,
    published_course,  # noqa: F811
):
    _bulk(team, 12, region_of=lambda i: ("APAC", "EMEA")[i % 2])
    # The outsider matches the words but is not on my teams: never assigned.
    outsider.user.first_name = "Bulk"
    outsider.user.save()
    response = _assign(lead_client, matching="on", q="bulk", region="EMEA")
    assert response.status_code == 302
    assert response["Location"] == reverse("lead_assign") + "?q=bulk&region=EMEA"
    assigned = set(
        Assignment.objects.filter(course=published_course).values_list(
            "engineer__user__username", flat=True
        )
    )
    assert assigned == {f"bulk{i:04d}" for i in range(1, 12, 2)}


def test_everyone_matching_a_search_for_another_leads_team_is_a_404(
    lead_client,  # noqa: F811
    outsider,
    published_course,  # noqa: F811
):
    response = _assign(lead_client, matching="on", team=outsider.team.slug)
    assert response.status_code == 404
    assert not Assignment.objects.exists()


def test_an_invalid_search_posted_with_everyone_matching_assigns_nothing(
    lead_client,  # noqa: F811
    engineer,
    published_course,  # noqa: F811
):
    response = _assign(lead_client, matching="on", region="MARS")
    assert response.status_code == 400
    assert "The search is not valid" in response.text
    assert not Assignment.objects.exists()


def test_nothing_chosen_is_a_form_error(lead_client, engineer, published_course):  # noqa: F811
    response = _assign(lead_client)
    assert response.status_code == 400
    assert "or everyone matching the search" in response.text


def test_a_manager_assigns_everyone_matching_across_teams(
    client,
    team,
    engineer,
    outsider,
    published_course,  # noqa: F811
):
    maya = UserFactory(username="maya")
    manager_grant(user=maya, actor=SYSTEM)
    client.force_login(maya)
    response = _assign(client, matching="on", q="o")  # oscar, and nobody else here
    assert response.status_code == 302
    assert list(
        Assignment.objects.filter(course=published_course).values_list(
            "engineer__user__username", flat=True
        )
    ) == ["oscar"]


def test_the_assign_form_shows_one_page_of_the_search(lead_client, team, published_course):  # noqa: F811
    _bulk(team, 70)
    html = lead_client.get(reverse("lead_assign"), {"q": "bulk"}).text
    assert html.count('name="engineers"') == 50
    assert "Everyone matching this search (70 engineers)" in html
    html = lead_client.get(reverse("lead_assign"), {"q": "bulk", "page": "2"}).text
    assert html.count('name="engineers"') == 20
    # The search rides with the POST, so "everyone matching" means the same thing.
    assert '<input type="hidden" name="q" value="bulk">' in html


# session, user, support manager?, teams, zone; courses, teams (the whole-team
# choice), the search's count and page, the open assignments' count; the nav.
ASSIGN_PAGE_MAX_QUERIES = 12


@pytest.mark.parametrize("count", [10, 500])
def test_the_assign_page_query_count_does_not_grow_with_engineers(
    lead_client,  # noqa: F811
    team,
    published_course,  # noqa: F811
    count,
    django_assert_max_num_queries,
):
    _bulk(team, count)
    with django_assert_max_num_queries(ASSIGN_PAGE_MAX_QUERIES):
        response = lead_client.get(
            reverse("lead_assign"), {"q": "bulk", "region": "APAC", "page": 10**20}
        )
    assert response.status_code == 200
    with django_assert_max_num_queries(ASSIGN_PAGE_MAX_QUERIES + 4):
        response = _assign(lead_client, matching="on", q="bulk")
    assert response.status_code == 302
    assert Assignment.objects.count() == count


def test_due_dates_of_the_assign_form_are_unchanged_by_the_search(
    lead_client,  # noqa: F811
    engineer,
    published_course,  # noqa: F811
):
    assert _assign(lead_client, engineers=[engineer.pk], q="nobody").status_code == 302
    assignment = Assignment.objects.get()
    assert assignment.due_at == datetime(2099, 3, 1, 9, 0, tzinfo=UTC)
