"""Two gunicorn workers on one machine, no Redis: they share errdesk's embedded store, so
Slack's retry of an event that reaches the other worker gets no second reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import event_body, mention_event
from tests.e2e.servers import SlackSender, serve_env, serving
from tests.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

HANDLED = 'errdesk_requests_total{kind="mention",outcome="%s"}'


def test_retries_reaching_another_worker_are_not_answered_twice(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = serve_env(fake_slack, WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(metrics))
    # A channel each: Slack's pace per channel is not what this test is about.
    events = [mention_event("530 Login incorrect", channel=f"C0WORK{n:03d}") for n in range(40)]
    with serving(env, tmp_path / "serve.log") as server:
        send = SlackSender(server.url)
        for event in events:
            body = event_body(event)
            assert send.event(body).status == 200
            assert send.event(body, retry_num=1).status == 200
        fake_slack.wait_for(
            lambda: (
                server.metric(HANDLED % "replied") + server.metric(HANDLED % "duplicate")
                >= 2 * len(events)
            ),
            timeout=30,
        )
        # Handled is not yet posted: the outbox posts a moment later, on its own threads.
        fake_slack.wait_for(
            lambda: all(fake_slack.thread_posts(event["ts"]) for event in events), timeout=30
        )
        answered = [len(fake_slack.thread_posts(event["ts"])) for event in events]
    assert answered.count(2) == 0, f"{answered.count(2)} of {len(events)} answered twice"
    assert answered.count(1) == len(events)
