"""Playbook search over 10,000 playbooks (issue 18): the median time of one search
as the API answers it — the ranked, filtered query, its count, and the first page
of 20 with highlights — for English (full-text) and Chinese (trigram/ILIKE) queries.

The playbooks are synthetic: 70 % English, 30 % Chinese, ~120 words each, drawn from
a vocabulary where each query word appears in a few percent of the playbooks (as a
symptom would), so the work done is the index lookup plus ranking the matches.
"""

import random
import statistics
import time
from dataclasses import dataclass

from django.db import connection

from courses.models import Playbook, PlaybookScenario, Scenario
from courses.selectors.playbooks import PlaybookSearch, playbook_highlight, playbook_search

COUNT = 10_000
PAGE = 20
QUERIES = ["reconnect", "push notification ios", "推送", "断线重连"]

_EN_TOPIC = [
    "reconnect",
    "push",
    "notification",
    "ios",
    "android",
    "token",
    "expired",
    "login",
    "ordering",
    "offline",
    "sync",
    "latency",
    "jitter",
    "channel",
    "metadata",
    "presence",
    "encryption",
    "rate",
    "limit",
    "upgrade",
    "crash",
    "memory",
    "battery",
    "background",
]
_EN_FILLER = [
    "the",
    "customer",
    "reports",
    "that",
    "after",
    "some",
    "time",
    "the",
    "app",
    "shows",
    "an",
    "error",
    "when",
    "users",
    "open",
    "a",
    "screen",
    "and",
    "we",
    "checked",
    "logs",
    "for",
    "the",
    "session",
    "ask",
    "which",
    "version",
    "build",
    "device",
    "region",
    "network",
    "wifi",
    "cellular",
    "proxy",
    "firewall",
    "console",
    "setting",
    "default",
    "value",
    "callback",
    "event",
    "listener",
    "thread",
    "queue",
    "retry",
    "timeout",
    "server",
    "client",
    "message",
    "history",
    "room",
    "member",
    "host",
    "audience",
    "teacher",
    "student",
    "call",
    "video",
    "audio",
    "stream",
    "quality",
    "frame",
    "bitrate",
]
_ZH_TOPIC = [
    "推送",
    "断线",
    "重连",
    "离线",
    "消息",
    "乱序",
    "登录",
    "令牌",
    "过期",
    "频道",
    "在线状态",
    "加密",
    "限流",
    "升级",
    "崩溃",
    "内存",
    "后台",
    "延迟",
    "抖动",
    "同步",
]
_ZH_FILLER = [
    "客户",
    "反馈",
    "用户",
    "打开",
    "页面",
    "出现",
    "错误",
    "我们",
    "检查",
    "日志",
    "会话",
    "版本",
    "设备",
    "地区",
    "网络",
    "代理",
    "防火墙",
    "控制台",
    "设置",
    "默认",
    "回调",
    "事件",
    "线程",
    "队列",
    "重试",
    "超时",
    "服务端",
    "客户端",
    "历史",
    "房间",
    "成员",
    "主播",
    "观众",
    "老师",
    "学生",
    "通话",
    "视频",
    "音频",
    "画质",
    "码率",
]


def _body(rng: random.Random, chinese: bool) -> tuple[str, str]:
    topic, filler = (_ZH_TOPIC, _ZH_FILLER) if chinese else (_EN_TOPIC, _EN_FILLER)
    # Two topic words per playbook, so each topic word is in ~8 % of its language's.
    words = rng.sample(topic, 2)
    title_words = [words[0], *rng.sample(filler, 4)]
    body = [rng.choice(filler) for _ in range(110)]
    for word in words:
        body.insert(rng.randrange(len(body)), word)
    joiner = "" if chinese else " "
    return joiner.join(title_words), joiner.join(body)


def prepare(count: int = COUNT) -> int:
    rng = random.Random(18)
    playbooks = []
    for index in range(count):
        chinese = index % 10 >= 7
        title, body = _body(rng, chinese)
        playbooks.append(
            Playbook(
                slug=f"bench-{index:05d}",
                title=title[:200],
                body=body,
                language=Playbook.Language.ZH_HANS if chinese else Playbook.Language.EN,
            )
        )
    created = Playbook.objects.bulk_create(playbooks, batch_size=1000)
    scenarios = list(Scenario.values)
    PlaybookScenario.objects.bulk_create(
        [PlaybookScenario(playbook=p, scenario=scenarios[p.pk % len(scenarios)]) for p in created],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE courses_playbook")
        cursor.execute("ANALYZE courses_playbookscenario")
    return len(created)


@dataclass
class SearchResult:
    query: str
    matches: int
    median_ms: float


def _search_once(q: str) -> int:
    search = PlaybookSearch(q=q)
    results = playbook_search(search)
    total = results.count()
    for playbook in results[:PAGE]:
        playbook_highlight(playbook, search)
    return total


def measure(runs: int) -> list[SearchResult]:
    out = []
    for q in QUERIES:
        _search_once(q)  # warm the cache and the plan
        times, total = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            total = _search_once(q)
            times.append((time.perf_counter() - started) * 1000)
        out.append(SearchResult(query=q, matches=total, median_ms=statistics.median(times)))
    return out
