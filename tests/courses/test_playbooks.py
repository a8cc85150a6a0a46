"""Playbooks: documents (PUT, import), search (SQLite fallback here; PostgreSQL
full-text and trigram search in test_playbook_search_postgres), the API."""

import json

import pytest
from django.core.management import CommandError, call_command

from core.actors import SYSTEM
from core.errors import InvalidInput
from courses.models import Playbook, PlaybookScenario
from courses.playbooks import MAX_QUERY, snippet
from courses.selectors.playbooks import PlaybookSearch, playbook_search, playbooks_for_release
from courses.services.playbooks import playbook_put
from tests.factories import FeatureFactory, ReleaseFactory, SkillFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/playbooks/"


@pytest.fixture
def catalog(token_client):
    return token_client("catalog")


@pytest.fixture
def features(sdk):
    """offline-sync in two releases of rtm-android: 2.3.0 and 2.4.0 (newest)."""
    reconnection = SkillFactory(slug="reconnection", name="Reconnection")
    old = ReleaseFactory(sdk=sdk, version="2.3.0")
    new = ReleaseFactory(sdk=sdk, version="2.4.0")
    return {
        "old": FeatureFactory(release=old, key="offline-sync", skills=[reconnection]),
        "new": FeatureFactory(release=new, key="offline-sync", skills=[reconnection]),
        "skill": reconnection,
    }


def _document(**changes) -> dict:
    document = {
        "title": "Messages out of order after reconnect",
        "body": "## Symptom\nAfter a network change messages arrive **out of order**.",
        "language": "en",
        "scenarios": ["social-chat", "online-education"],
        "sdks": ["rtm-android"],
        "features": [{"sdk": "rtm-android", "key": "offline-sync"}],
        "skills": ["reconnection"],
    }
    document.update(changes)
    return document


def _put(slug: str, **changes) -> Playbook:
    playbook, _ = playbook_put(slug=slug, document=_document(**changes), actor=SYSTEM)
    return playbook


# --- documents and the service ---------------------------------------------------


def test_put_creates_then_replaces_and_answers_201_then_200(catalog, features):
    owner = UserFactory(username="lena")
    response = catalog.put(URL + "out-of-order/", _document(owner="lena"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["features"] == [{"sdk": "rtm-android", "key": "offline-sync"}]
    assert body["owner"] == "lena"
    assert body["verify_every_days"] == 180
    assert body["verified_at"] is None
    assert sorted(body["scenarios"]) == ["online-education", "social-chat"]

    again = catalog.put(
        URL + "out-of-order/", _document(scenarios=["voice-rooms"], title="New"), format="json"
    )
    assert again.status_code == 200, again.json()
    playbook = Playbook.objects.get(slug="out-of-order")
    assert playbook.title == "New"
    assert playbook.owner is None  # replaced as a whole: no owner in the document
    assert list(playbook.scenarios.values_list("scenario", flat=True)) == ["voice-rooms"]
    assert owner.pk  # the user stays


def test_a_feature_key_resolves_to_the_newest_release_that_has_it(features):
    playbook = _put("out-of-order")
    assert list(playbook.features.all()) == [features["new"]]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"scenarios": ["karaoke"]}, "scenarios", "karaoke"),
        ({"sdks": ["rtm-nope"]}, "sdks", "rtm-nope"),
        ({"skills": ["nope"]}, "skills", "nope"),
        ({"features": [{"sdk": "rtm-android", "key": "nope"}]}, "features", "nope"),
        ({"owner": "nobody"}, "owner", "nobody"),
        ({"language": "fr"}, "language", "fr"),
        ({"title": ""}, "title", ""),
        ({"body": "   "}, "body", ""),
        ({"body": "a\x00b"}, "body", ""),
        ({"title": "a\x02b"}, "title", "Control"),
        ({"scenarios": "social-chat"}, "scenarios", ""),
    ],
)
def test_put_refuses_a_bad_document_naming_the_field(catalog, features, changes, field, says):
    response = catalog.put(URL + "bad/", _document(**changes), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert says in json.dumps(response.json(), ensure_ascii=False)
    assert not Playbook.objects.filter(slug="bad").exists()


def test_put_refuses_a_slug_that_differs_from_the_url(catalog, features):
    response = catalog.put(URL + "one/", _document(slug="two"), format="json")
    assert response.status_code == 400
    assert "slug" in response.json()


def test_put_refuses_deep_json_and_non_objects(catalog, features):
    deep = '{"title": "T", "body": "B", "features": ' + '{"x": ' * 500 + "{}" + "}" * 501
    response = catalog.put(URL + "deep/", data=deep, content_type="application/json")
    assert response.status_code == 400
    assert catalog.put(URL + "deep/", [1, 2], format="json").status_code == 400
    assert not Playbook.objects.filter(slug="deep").exists()


def test_import_playbook_reads_markdown_with_front_matter(tmp_path, features):
    file = tmp_path / "ios-push.md"
    file.write_text(
        "---\ntitle: iOS 离线推送收不到\nlanguage: zh-hans\nscenarios: [social-chat]\n"
        "skills: [reconnection]\n---\n\n用户离线时收不到推送通知。\n",
        encoding="utf-8",
    )
    call_command("import_playbook", str(file))
    playbook = Playbook.objects.get(slug="ios-push")
    assert playbook.title == "iOS 离线推送收不到"
    assert playbook.body == "用户离线时收不到推送通知。\n"
    assert playbook.language == "zh-hans"


def test_import_playbook_names_what_is_wrong(tmp_path, features):
    file = tmp_path / "bad.md"
    file.write_text("---\ntitle: T\nscenarios: [karaoke]\n---\nBody\n", encoding="utf-8")
    with pytest.raises(CommandError, match="scenarios"):
        call_command("import_playbook", str(file))
    file.write_text("no front matter\n", encoding="utf-8")
    with pytest.raises(CommandError, match="front matter"):
        call_command("import_playbook", str(file))


# --- search: the SQLite fallback, and what every path shares ----------------------


def test_snippet_escapes_the_text_and_marks_the_match():
    html = snippet("Use <script>alert(1)</script> then reconnect & retry", ["reconnect"])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<mark>reconnect</mark>" in html
    assert "&amp; retry" in html


def test_snippet_marks_chinese_and_keeps_the_piece_around_it():
    text = "前言" * 200 + "用户收不到推送通知" + "结尾" * 200
    html = snippet(text, ["推送"])
    assert "<mark>推送</mark>" in html
    assert html.startswith("…") and html.endswith("…")


def test_search_finds_title_matches_above_body_matches(features, settings):
    _put("body-hit", title="Slow startup", body="Happens after reconnect on Android.")
    _put("title-hit", title="Reconnect storms", body="Hosts drop every few seconds.")
    _put("no-hit", title="Push", body="APNs certificate.")
    found = list(playbook_search(PlaybookSearch(q="reconnect")))
    assert [p.slug for p in found] == ["title-hit", "body-hit"]
    assert found[0].rank > found[1].rank


def test_search_finds_two_chinese_characters(features):
    _put("zh", title="iOS 离线推送收不到", body="用户离线时收不到推送通知。", language="zh-hans")
    _put("en", title="Push", body="APNs certificate.")
    assert [p.slug for p in playbook_search(PlaybookSearch(q="推送"))] == ["zh"]


def test_search_filters_by_scenario_and_sdk(features, sdk):
    _put("chat", scenarios=["social-chat"])
    _put("live", scenarios=["live-streaming"], sdks=[])
    assert [p.slug for p in playbook_search(PlaybookSearch(scenario="live-streaming"))] == ["live"]
    assert [p.slug for p in playbook_search(PlaybookSearch(sdk="rtm-android"))] == ["chat"]


# --- the API -----------------------------------------------------------------------


def test_list_is_paginated_ranked_and_highlighted(catalog, features):
    for index in range(3):
        _put(f"p{index}", title=f"Reconnect {index}", body="<b>reconnect</b> & more")
    response = catalog.get(URL, {"q": "reconnect", "page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    first = body["results"][0]
    assert "body" not in first
    assert "<mark>" in first["highlight"].lower()
    # Escaped (SQLite's snippet) or dropped as markup (PostgreSQL's ts_headline):
    # never a tag of the author's.
    assert "<b>" not in first["highlight"]
    assert "&amp; more" in first["highlight"]


def test_list_refuses_a_huge_query_and_an_unknown_scenario(catalog):
    response = catalog.get(URL, {"q": "x" * (MAX_QUERY + 1)})
    assert response.status_code == 400
    assert "q" in response.json()
    response = catalog.get(URL, {"scenario": "karaoke"})
    assert response.status_code == 400
    assert "karaoke" in json.dumps(response.json())


def test_list_refuses_a_nul_byte(catalog):
    assert catalog.get(URL, {"q": "a\x00b"}).status_code == 400


def test_list_queries_stay_flat(catalog, features, django_assert_max_num_queries):
    for index in range(12):
        _put(f"p{index}", title=f"Reconnect {index}")
    with django_assert_max_num_queries(12):
        response = catalog.get(URL, {"q": "reconnect"})
    assert len(response.json()["results"]) == 12


def test_detail_and_404(catalog, features):
    _put("out-of-order")
    assert catalog.get(URL + "out-of-order/").json()["body"].startswith("## Symptom")
    assert catalog.get(URL + "nope/").status_code == 404


def test_any_token_may_read_but_only_catalog_may_write(token_client, features):
    reader = token_client("releases")
    assert reader.get(URL).status_code == 200
    assert reader.put(URL + "x/", _document(), format="json").status_code == 403


# --- a release's course links its playbooks ---------------------------------------


def test_a_release_links_playbooks_on_its_feature_keys_or_its_skills(features, sdk):
    by_key = _put("by-key", skills=[])
    by_skill = _put("by-skill", features=[])
    _put("unrelated", features=[], skills=[], sdks=[])
    # by-key named the feature of 2.4.0; the older release shares the key.
    for release in (features["old"].release, features["new"].release):
        found = set(playbooks_for_release(release_id=release.pk))
        assert found == {by_key, by_skill}
    other = ReleaseFactory(sdk=sdk, version="3.0.0")
    FeatureFactory(release=other, key="offline-sync")  # same key, no skill
    assert set(playbooks_for_release(release_id=other.pk)) == {by_key}
    assert PlaybookScenario.objects.filter(playbook=by_key).count() == 2


def test_invalid_input_is_an_invalid_input_error(features):
    with pytest.raises(InvalidInput):
        playbook_put(slug="x", document="not a document", actor=SYSTEM)
