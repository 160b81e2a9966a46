"""SIGTERM with replies still queued: errdesk stops taking work, posts what it can within
ERRDESK_STOP_GRACE, and says (log and metric) what it could not; with Redis another replica
posts what was left. In HTTP mode and in Socket Mode."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import event_body, mention_event
from tests.e2e.servers import ServerProcess, SlackSender, serve_env
from tests.fake_slack import FakeSlack
from tests.redis_process import any_redis

pytestmark = pytest.mark.e2e

CHANNEL = "C0STOP001"
REPLIED = 'errdesk_requests_total{kind="mention",outcome="replied"}'


def mentions(count: int) -> list[dict[str, Any]]:
    return [mention_event(f"{n}: 550 Permission denied", channel=CHANNEL) for n in range(count)]


def send_all(process: ServerProcess, fake: FakeSlack, events: list[dict[str, Any]]) -> None:
    """Deliver the events over HTTP and wait until every one was handled (its reply queued)."""
    before = process.metric(REPLIED)
    for event in events:
        assert SlackSender(process.url).event(event_body(event)).status == 200
    fake.wait_for(lambda: process.metric(REPLIED) >= before + len(events), timeout=30)


def posted(fake: FakeSlack, events: list[dict[str, Any]]) -> list[str]:
    stamps = {event["ts"] for event in events}
    return [p.body["thread_ts"] for p in fake.posts() if p.body.get("thread_ts") in stamps]


def log_records(process: ServerProcess) -> list[dict[str, Any]]:
    records = []
    for line in process.log.splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def test_replies_queued_at_sigterm_are_posted_within_the_grace(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.pace_posts(per_second=4, burst=1)
    env = serve_env(fake_slack, ERRDESK_POST_RATE="4", ERRDESK_STOP_GRACE="15")
    events = mentions(20)
    with ServerProcess(env, tmp_path / "serve.log") as process:
        process.wait_ready()
        send_all(process, fake_slack, events)
        status = process.stop(timeout=25)
    assert status == 0, process.log
    assert sorted(posted(fake_slack, events)) == sorted(e["ts"] for e in events), process.log


def test_replies_left_at_the_end_of_the_grace_are_logged_and_counted(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.rate_limit(CHANNEL, 60)
    env = serve_env(fake_slack, ERRDESK_STOP_GRACE="2", ERRDESK_LOG_FORMAT="json")
    with ServerProcess(env, tmp_path / "serve.log") as process:
        process.wait_ready()
        send_all(process, fake_slack, mentions(5))
        status = process.stop(timeout=10)
    assert status == 0, process.log
    unposted = [r for r in log_records(process) if r.get("unposted")]
    assert unposted, f"no log line says what was not posted:\n{process.log}"
    assert unposted[-1]["unposted"] == 5


def test_socket_mode_posts_the_queued_replies_before_it_stops(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.pace_posts(per_second=4, burst=1)
    env = serve_env(fake_slack, socket_mode=True, ERRDESK_POST_RATE="4", ERRDESK_STOP_GRACE="15")
    events = mentions(12)
    with ServerProcess(env, tmp_path / "socket.log") as process:
        process.wait_ready()
        before = process.metric(REPLIED)
        for event in events:
            fake_slack.send_envelope(
                {
                    "envelope_id": str(uuid.uuid4()),
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "payload": event_body(event),
                }
            )
        fake_slack.wait_for(lambda: process.metric(REPLIED) >= before + len(events), timeout=30)
        status = process.stop(timeout=25)
    assert status == 0, process.log
    assert sorted(posted(fake_slack, events)) == sorted(e["ts"] for e in events), process.log


def test_with_redis_another_replica_posts_what_a_stopped_one_left(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    fake_slack.rate_limit(CHANNEL, 8)
    events = mentions(5)
    with any_redis() as redis_url:
        env = {"REDIS_URL": redis_url, "ERRDESK_STOP_GRACE": "1", "ERRDESK_LOG_FORMAT": "json"}
        with (
            ServerProcess(serve_env(fake_slack, **env), tmp_path / "a.log") as first,
            ServerProcess(serve_env(fake_slack, **env), tmp_path / "b.log") as second,
        ):
            first.wait_ready()
            second.wait_ready()
            send_all(first, fake_slack, events)
            assert first.stop(timeout=5) == 0, first.log
            assert posted(fake_slack, events) == []
            fake_slack.wait_for(lambda: len(posted(fake_slack, events)) == len(events), timeout=30)
            fake_slack.wait_for(
                lambda: second.metric('errdesk_outbox_replies_total{outcome="posted"}') >= 5
            )
    assert sorted(posted(fake_slack, events)) == sorted(e["ts"] for e in events)
