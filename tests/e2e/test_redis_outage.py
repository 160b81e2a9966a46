"""Redis goes away mid-run: the bot keeps answering from memory, /readyz says not ready, and
everything returns to Redis once it is back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.served import Served, mention, posts_in_thread
from tests.fake_slack import FakeSlack
from tests.redis_process import RedisProcess, own_redis

pytestmark = pytest.mark.e2e

# The store retries Redis at most every 5 seconds; readiness probes it on every request.
RECOVERY_SECONDS = 10.0


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


def test_replies_keep_coming_while_redis_is_down(slack: FakeSlack, tmp_path: Path) -> None:
    with own_redis() as redis:
        replica = Served(slack, tmp_path / "replica.log", redis.url)
        try:
            replica.wait_until("/readyz", 200)
            run_through_an_outage(slack, replica, redis)
        finally:
            replica.stop()


def run_through_an_outage(slack: FakeSlack, replica: Served, redis: RedisProcess) -> None:
    before = mention("425 Can't open data connection")
    replica.send(before)
    slack.wait_for(lambda: posts_in_thread(slack, before))

    redis.kill()
    assert "unreachable" in replica.wait_until("/readyz", 503, timeout=RECOVERY_SECONDS)
    assert replica.get("/healthz")[0] == 200

    during = mention("curl: (7) Failed to connect: Connection refused")
    assert replica.send(during) == 200
    slack.wait_for(lambda: posts_in_thread(slack, during))
    assert replica.send(during, retry_num=1) == 200
    slack.settle()
    assert len(posts_in_thread(slack, during)) == 1, "memory still catches Slack's retry"
    assert replica.log.count("Redis unreachable") == 1

    redis.start()
    replica.wait_until("/readyz", 200, timeout=RECOVERY_SECONDS)
    after = mention("HTTP 503 Service Unavailable from the upload endpoint")
    replica.send(after)
    slack.wait_for(lambda: posts_in_thread(slack, after))
    slack.wait_for(lambda: "Redis reachable again" in replica.log)
