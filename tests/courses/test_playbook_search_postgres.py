"""Playbook search on PostgreSQL: English full-text search (stemming, ranking,
ts_headline highlights, escaped) and Chinese substring search served by pg_trgm.
Marked `services`: skipped on SQLite, required in CI (REQUIRE_SERVICES=1)."""

import pytest
from django.db import connection

from core.actors import SYSTEM
from courses.models import Playbook
from courses.selectors.playbooks import PlaybookSearch, playbook_highlight, playbook_search
from courses.services.playbooks import playbook_put

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def _put(slug: str, title: str, body: str, language: str = "en") -> Playbook:
    document = {"title": title, "body": body, "language": language}
    return playbook_put(slug=slug, document=document, actor=SYSTEM)[0]


def _slugs(q: str) -> list[str]:
    return [p.slug for p in playbook_search(PlaybookSearch(q=q))]


@pytest.fixture
def playbooks(db):
    _put("ordering", "Messages out of order after reconnection", "Check `serverTime`.")
    _put("push-en", "Push not arriving on iOS", "Messages sent while reconnecting are held.")
    _put("push-zh", "iOS 离线推送收不到", "用户离线时收不到推送通知。检查 APNs 证书。", "zh-hans")
    _put("class-zh", "在线教育课堂断线重连后消息乱序", "按服务端时间排序。", "zh-hans")


def test_english_search_stems_and_ranks_a_title_match_first(playbooks):
    # "reconnect" finds "reconnection" (title) and "reconnecting" (body) by stemming.
    assert _slugs("reconnect") == ["ordering", "push-en"]


def test_english_search_keeps_the_vector_current_on_replace(playbooks):
    _put("push-en", "Push not arriving on iOS", "Only about certificates now.")
    assert _slugs("reconnect") == ["ordering"]
    assert Playbook.objects.get(slug="push-en").search_vector is not None


def test_english_search_uses_websearch_syntax_without_errors(playbooks):
    assert _slugs('"push not" -android') == ["push-en"]
    assert _slugs("(((") == []
    assert _slugs("the") == []  # a stop word only: nothing, not an error


def test_english_highlight_is_escaped_with_marks(db):
    _put("xss", "Reconnect", "Before <script>alert(1)</script> we reconnect & retry.")
    search = PlaybookSearch(q="reconnect")
    [playbook] = playbook_search(search)
    html = playbook_highlight(playbook, search)
    assert "<mark>reconnect</mark>" in html
    # ts_headline's parser drops markup tags; what is left is escaped.
    assert "<script>" not in html
    assert "&amp; retry" in html


def test_two_chinese_characters_find_the_playbook_containing_them(playbooks):
    assert _slugs("推送") == ["push-zh"]
    assert _slugs("乱序") == ["class-zh"]
    assert _slugs("重连") == ["class-zh"]


def test_chinese_title_match_ranks_above_body_match(db):
    _put("body", "iOS 证书问题", "用户离线时收不到推送通知。", "zh-hans")
    _put("title", "推送收不到", "检查证书。", "zh-hans")
    assert _slugs("推送") == ["title", "body"]


def test_chinese_highlight_marks_the_match_escaped(db):
    _put("zh", "证书", "<b>注意</b> 用户离线时收不到推送通知。", "zh-hans")
    search = PlaybookSearch(q="推送")
    [playbook] = playbook_search(search)
    html = playbook_highlight(playbook, search)
    assert "<mark>推送</mark>" in html
    assert "&lt;b&gt;" in html


def test_like_wildcards_in_a_chinese_query_are_literal(playbooks):
    assert _slugs("推送 %") == []
    assert _slugs("推_") == []


def test_the_search_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'courses_playbook' ORDER BY 1"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert {"playbook_search_idx", "playbook_title_trgm_idx", "playbook_body_trgm_idx"} <= names


def test_longer_and_single_character_chinese_queries(playbooks):
    assert _slugs("断线重连") == ["class-zh"]
    assert _slugs("重连断线") == []  # every bigram's characters are there, not in order
    assert _slugs("序") == ["class-zh"]  # one character: the scan, still right
    assert _slugs("iOS 推送") == ["push-zh"]


def test_the_trigger_indexes_chinese_bigrams(playbooks):
    with connection.cursor() as cursor:
        cursor.execute("SELECT courses_cjk_bigrams('iOS 离线推送')")
        assert cursor.fetchone()[0].split() == sorted(["离线", "线推", "推送"])
