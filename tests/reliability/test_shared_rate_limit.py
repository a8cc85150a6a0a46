"""A token's rate limit holds across web processes: two gunicorn servers share the
counts through Redis (CACHE_URL), so alternating between them buys no extra calls."""

import pytest

from tests.factories import SdkFactory
from tests.reliability.stack import RedisServer, WebServer, stack_env
from training.services.tokens import token_issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

LIMIT = 5


def test_two_web_processes_share_one_budget_per_token(tmp_path):
    SdkFactory(slug="rtm-android")
    token = token_issue(name="pipeline", scopes=["catalog"])[1]
    other = token_issue(name="other", scopes=["catalog"])[1]
    redis = RedisServer(tmp_path)
    redis.start()
    env = stack_env(CACHE_URL=redis.url, PREFLIGHT_API_RATE=f"{LIMIT}/min")
    servers = []
    try:
        servers = [WebServer(env=env, log=tmp_path / f"web{i}.log") for i in range(2)]
        codes = [servers[i % 2].request("GET", "/api/v1/sdks/", token=token)[0] for i in range(8)]
        assert codes == [200] * LIMIT + [429] * (8 - LIMIT)
        # Another token has its own budget, on either server.
        assert servers[1].request("GET", "/api/v1/sdks/", token=other)[0] == 200
    finally:
        for server in servers:
            server.stop()
        redis.stop()
