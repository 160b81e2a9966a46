"""Two replicas on one Redis: Slack's retry of an event reaching the other replica is not
answered twice, and each replica's /metrics shows what it did."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.served import Served, mention, posts_in_thread
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.redis_process import any_redis

pytestmark = pytest.mark.e2e

MENTION_OUTCOME = 'errdesk_requests_total{kind="mention",outcome="%s"}'


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture
def replicas(slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[Served, Served]]:
    with any_redis() as redis_url:
        pair = (
            Served(slack, tmp_path / "replica-a.log", redis_url),
            Served(slack, tmp_path / "replica-b.log", redis_url),
        )
        try:
            for replica in pair:
                assert "state in redis" in replica.wait_until("/readyz", 200)
            yield pair
        finally:
            for replica in pair:
                replica.stop()


def test_a_retry_delivered_to_the_other_replica_gets_no_second_reply(
    slack: FakeSlack, replicas: tuple[Served, Served]
) -> None:
    first, second = replicas
    event = mention("ftp upload fails: 425 Can't open data connection")

    assert first.send(event) == 200
    assert second.send(event, retry_num=1) == 200

    def handled(outcome: str) -> float:
        return sum(replica.metric(MENTION_OUTCOME % outcome) for replica in replicas)

    # Either replica may win: each acknowledges at once and works on its own thread after.
    slack.wait_for(lambda: posts_in_thread(slack, event))
    slack.wait_for(lambda: handled("duplicate") == 1)
    slack.settle()
    assert len(posts_in_thread(slack, event)) == 1
    assert handled("replied") == 1


def test_metrics_move_when_the_served_app_handles_a_request(
    slack: FakeSlack, replicas: tuple[Served, Served]
) -> None:
    replica = replicas[0]
    latency = 'errdesk_handling_seconds_count{kind="mention"}'
    assert replica.metric(latency) == 0

    event = mention("SFTP says: SSH_FX_PERMISSION_DENIED")
    assert replica.send(event) == 200
    slack.wait_for(lambda: replica.metric(latency) == 1)

    assert replica.metric(MENTION_OUTCOME % "replied") == 1
    assert replica.metric("errdesk_replies_total{") >= 1
    assert len(posts_in_thread(slack, event)) == 1


def test_request_log_lines_carry_no_token_and_no_message_text(
    slack: FakeSlack, replicas: tuple[Served, Served]
) -> None:
    replica = replicas[0]
    secret_text = "FTP 530 for the account of someone-specific"
    event = mention(secret_text)
    replica.send(event)
    slack.wait_for(lambda: '"kind": "mention"' in replica.log)
    assert BOT_TOKEN not in replica.log
    assert "someone-specific" not in replica.log
