"""Two replicas on one Redis: Slack's retry of an event reaching the other replica is not
answered twice, and each replica's /metrics shows what it did."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import event_body, mention_event
from tests.e2e.servers import ServerProcess, SlackSender, serve_env
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.redis_process import any_redis

pytestmark = pytest.mark.e2e

MENTION_OUTCOME = 'errdesk_requests_total{kind="mention",outcome="%s"}'


@pytest.fixture
def replicas(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[ServerProcess, ...]]:
    with any_redis() as redis_url, ExitStack() as running:
        env = {"REDIS_URL": redis_url, "ERRDESK_LOG_FORMAT": "json"}
        pair = tuple(
            running.enter_context(
                ServerProcess(serve_env(fake_slack, **env), tmp_path / f"replica-{name}.log")
            )
            for name in "ab"
        )
        for replica in pair:
            assert "state in redis" in replica.wait_ready()
        yield pair


def test_a_retry_delivered_to_the_other_replica_gets_no_second_reply(
    fake_slack: FakeSlack, replicas: tuple[ServerProcess, ...]
) -> None:
    first, second = replicas
    event = mention_event("ftp upload fails: 425 Can't open data connection")
    body = event_body(event)

    assert SlackSender(first.url).event(body).status == 200
    assert SlackSender(second.url).event(body, retry_num=1).status == 200

    def handled(outcome: str) -> float:
        return sum(replica.metric(MENTION_OUTCOME % outcome) for replica in replicas)

    # Either replica may win: each acknowledges at once and works on its own thread after.
    fake_slack.wait_for(lambda: fake_slack.thread_posts(event["ts"]))
    fake_slack.wait_for(lambda: handled("duplicate") == 1)
    fake_slack.settle()
    assert len(fake_slack.thread_posts(event["ts"])) == 1
    assert handled("replied") == 1


def test_metrics_move_when_the_served_app_handles_a_request(
    fake_slack: FakeSlack, replicas: tuple[ServerProcess, ...]
) -> None:
    replica = replicas[0]
    latency = 'errdesk_handling_seconds_count{kind="mention"}'
    assert replica.metric(latency) == 0

    event = mention_event("SFTP says: SSH_FX_PERMISSION_DENIED")
    assert SlackSender(replica.url).event(event_body(event)).status == 200
    fake_slack.wait_for(lambda: replica.metric(latency) == 1)

    assert replica.metric(MENTION_OUTCOME % "replied") == 1
    assert replica.metric("errdesk_replies_total{") >= 1
    # Handled is not yet posted: the outbox posts a moment later, on its own threads.
    (post,) = fake_slack.wait_for(lambda: fake_slack.thread_posts(event["ts"]))
    assert post.body["thread_ts"] == event["ts"]


def test_request_log_lines_carry_no_token_and_no_message_text(
    fake_slack: FakeSlack, replicas: tuple[ServerProcess, ...]
) -> None:
    replica = replicas[0]
    secret_text = "FTP 530 for the account of someone-specific"
    assert SlackSender(replica.url).event(event_body(mention_event(secret_text))).status == 200
    fake_slack.wait_for(lambda: '"kind": "mention"' in replica.log)
    assert BOT_TOKEN not in replica.log
    assert "someone-specific" not in replica.log
