"""Redis goes away mid-run: the bot keeps answering from memory, /readyz says not ready, and
everything returns to Redis once it is back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import event_body, mention_event
from tests.e2e.servers import ServerProcess, SlackSender, serve_env, serving
from tests.fake_slack import FakeSlack
from tests.redis_process import RedisProcess, own_redis

pytestmark = pytest.mark.e2e

# The store retries Redis at most every 5 seconds; readiness probes it on every request.
RECOVERY_SECONDS = 10.0


def test_replies_keep_coming_while_redis_is_down(fake_slack: FakeSlack, tmp_path: Path) -> None:
    with own_redis() as redis:
        env = serve_env(fake_slack, REDIS_URL=redis.url, ERRDESK_LOG_FORMAT="json")
        with serving(env, tmp_path / "replica.log") as replica:
            run_through_an_outage(fake_slack, replica, redis)


def run_through_an_outage(fake: FakeSlack, replica: ServerProcess, redis: RedisProcess) -> None:
    send = SlackSender(replica.url)
    before = mention_event("425 Can't open data connection")
    assert send.event(event_body(before)).status == 200
    fake.wait_for(lambda: fake.thread_posts(before["ts"]))

    redis.kill()
    assert "unreachable" in replica.wait_until("/readyz", 503, timeout=RECOVERY_SECONDS)
    assert replica.get("/healthz")[0] == 200

    during = mention_event("curl: (7) Failed to connect: Connection refused")
    during_body = event_body(during)
    assert send.event(during_body).status == 200
    fake.wait_for(lambda: fake.thread_posts(during["ts"]))
    duplicates = 'errdesk_requests_total{kind="mention",outcome="duplicate"}'
    seen = replica.metric(duplicates)
    assert send.event(during_body, retry_num=1).status == 200
    fake.wait_for(lambda: replica.metric(duplicates) == seen + 1)  # the retry was handled
    assert len(fake.thread_posts(during["ts"])) == 1, "memory still catches Slack's retry"
    assert replica.log.count("Redis unreachable") == 1

    redis.start()
    replica.wait_until("/readyz", 200, timeout=RECOVERY_SECONDS)
    after = mention_event("HTTP 503 Service Unavailable from the upload endpoint")
    assert send.event(event_body(after)).status == 200
    fake.wait_for(lambda: fake.thread_posts(after["ts"]))
    fake.wait_for(lambda: "Redis reachable again" in replica.log)
