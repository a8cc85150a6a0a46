"""SCIM at company scale: an identity provider reading 10,000 users page by page
(count=100), as it does before every sync. Each page is timed once, walking the
whole list; the row reports the median and p90 over the pages and the queries of
one page (flat: the users of a page are read in one query, plus the count)."""

import statistics
import time

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import data
from bench.pages import PageResult
from training.services.tokens import token_issue

USERS = 10_000
PAGE = 100


def measure() -> PageResult:
    _sdk, (team,) = data.sdk_with_teams("bench-scim", teams=1, leads=[])
    data.engineers("scim", teams=[team], active=USERS)
    data.analyze()
    raw = token_issue(name="bench-scim", scopes=["scim"])[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
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
        name=f"SCIM Users, {PAGE} a page, {total} users (every page once)",
        url=url,
        median_ms=statistics.median(ordered) * 1000,
        p90_ms=ordered[int(0.9 * (len(ordered) - 1))] * 1000,
        queries=len(queries),
        status=200,
        renders=len(samples),
    )
