"""Playbook pages: the search box in every page's header, the results page, one
playbook, and the Playbooks box on a release's course page."""

import pytest
from django.urls import reverse

from core.actors import SYSTEM
from courses.services.playbooks import playbook_put
from tests.training.quiz_course import build_quiz_course

pytestmark = pytest.mark.django_db


def _put(slug: str, **document) -> None:
    playbook_put(slug=slug, document={"body": "Body.", **document}, actor=SYSTEM)


@pytest.fixture
def signed_in(client, engineer):
    client.force_login(engineer.user)
    return client


def test_every_page_has_the_search_box_for_a_signed_in_person(signed_in):
    page = signed_in.get(reverse("home")).content.decode()
    assert 'role="search"' in page
    assert f'action="{reverse("playbook_search")}"' in page


def test_results_are_ranked_and_highlighted_and_the_author_s_html_is_escaped(signed_in):
    _put("body-hit", title="Slow start", body="<i>Only</i> after a reconnect.")
    _put("title-hit", title="Reconnect storms", body="Hosts drop.")
    response = signed_in.get(reverse("playbook_search"), {"q": "reconnect"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Reconnect storms") < page.index("Slow start")
    assert "<mark>reconnect</mark>" in page.lower()
    assert "<i>Only</i>" not in page


def test_a_chinese_query_of_two_characters_finds_its_playbook(signed_in):
    _put("zh", title="iOS 离线推送收不到", body="用户离线时收不到推送通知。", language="zh-hans")
    page = signed_in.get(reverse("playbook_search"), {"q": "推送"}).content.decode()
    assert reverse("playbook", args=["zh"]) in page
    assert "<mark>推送</mark>" in page


@pytest.mark.parametrize("query", [{"q": "x" * 201}, {"scenario": "karaoke"}])
def test_a_query_too_long_or_an_unknown_scenario_is_a_400_saying_so(signed_in, query):
    response = signed_in.get(reverse("playbook_search"), query)
    assert response.status_code == 400
    assert 'class="errors"' in response.content.decode()


def test_a_playbook_page_renders_sanitised_markdown(signed_in):
    _put("xss", title="Push", body="## Check\n<script>alert(1)</script>\n\n**APNs**")
    page = signed_in.get(reverse("playbook", args=["xss"])).content.decode()
    assert "<strong>APNs</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert signed_in.get(reverse("playbook", args=["nope"])).status_code == 404


def test_the_course_page_lists_the_playbooks_of_its_release_features(signed_in, engineer):
    qc = build_quiz_course(engineer=engineer)
    sdk = qc.release.sdk.slug
    _put("edits", title="Edited messages look new", features=[{"sdk": sdk, "key": "message-edit"}])
    _put("other", title="Unrelated")
    page = signed_in.get(reverse("assignment", args=[qc.assignment.pk])).content.decode()
    assert "Edited messages look new" in page
    assert "Unrelated" not in page
