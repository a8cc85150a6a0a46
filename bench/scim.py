"""SCIM at company scale: an identity provider reading its users page by page
(count=100), as it does before every sync. Each page is timed once, walking the
whole list; the row reports the median and p90 over the pages and the queries of
one page in the middle (flat: the count, the page's keys, its rows).

The issue's target is 10,000 users, so the section runs first, before any other
adds engineers: the directory is exactly USERS. At the end of the run the walk is
repeated over every engineer the run made (the fan-out's 120,000 and more), to
show how a page grows with the directory."""

import statistics
import time

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import data
from bench.pages import PageResult
from training.selectors.scim import scim_engineers
from training.services.tokens import token_issue

USERS = 10_000
PAGE = 100


def prepare() -> str:
    """USERS provisioned engineers; the token an identity provider would hold."""
    _sdk, (team,) = data.sdk_with_teams("bench-scim", teams=1, leads=[])
    data.engineers("scim", teams=[team], active=USERS)
    data.analyze()
    return token_issue(name="bench-scim", scopes=["scim"])[1]


def directory_size() -> int:
    return scim_engineers().count()


def measure(token: str) -> PageResult:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/scim/v2/Users?count={PAGE}"
    first = client.get(url)  # also imports the SCIM views, outside the timing
    if first.status_code != 200:
        return PageResult(name="SCIM Users page", url=url, gap=f"answered {first.status_code}")
    total = first.json()["totalResults"]
    samples = []
    for start in range(1, total + 1, PAGE):
        started = time.perf_counter()
        response = client.get(f"{url}&startIndex={start}")
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:200]
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{url}&startIndex={total // 2}")
    ordered = sorted(samples)
    return PageResult(
        name=f"SCIM Users, {PAGE} a page, {total:,} users (every page once)",
        url=url,
        median_ms=statistics.median(ordered) * 1000,
        p90_ms=ordered[int(0.9 * (len(ordered) - 1))] * 1000,
        queries=len(queries),
        status=200,
        renders=len(samples),
    )
