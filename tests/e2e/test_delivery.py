"""Replies reach Slack whatever Slack does to them: paced per channel, rate-limited for a while in
one channel, or answered with a response lost on the way back.

The fake paces chat.postMessage per channel as Slack does (a short burst, then a steady rate,
429 with Retry-After beyond), and errdesk posts at that rate. One server serves the module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import event_body, mention_event, message_event
from tests.e2e.servers import ServerProcess, SlackSender, serve_env, serving
from tests.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

# Slack's pace is about one post a second per channel; two keeps the module quicker, and errdesk
# is told the same rate, as it would be left at its default against Slack.
POSTS_PER_SECOND = 2
BURST = 3
HANDLED = 'errdesk_requests_total{kind="%s",outcome="%s"}'


@pytest.fixture(scope="module")
def server(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    fake.pace_posts(per_second=POSTS_PER_SECOND, burst=BURST)
    log = tmp_path_factory.mktemp("delivery") / "serve.log"
    env = serve_env(
        fake,
        ERRDESK_POST_RATE=str(POSTS_PER_SECOND),
        ERRDESK_STOP_GRACE="2",  # the held channel's replies are not waited for at the end
        ERRDESK_LOG_FORMAT="json",
    )
    with serving(env, log) as process:
        yield process


@pytest.fixture(scope="module")
def slack(server: ServerProcess) -> SlackSender:
    return SlackSender(server.url)


def test_a_burst_in_one_channel_is_answered_whole_in_order_and_once(
    fake: FakeSlack, slack: SlackSender
) -> None:
    events = [message_event(f"upload {n}: 425 Can't open data connection.") for n in range(30)]
    for event in events:
        assert slack.event(event_body(event)).status == 200
    stamps = [event["ts"] for event in events]
    fake.wait_for(lambda: all(fake.thread_posts(ts) for ts in stamps), timeout=30)
    posted = [p.body["thread_ts"] for p in fake.posts() if p.body.get("thread_ts") in stamps]
    assert len(posted) == len(set(posted)), "a reply was posted twice"
    assert posted == stamps, "the replies were not posted in the order of the messages"


def test_a_response_lost_after_the_post_does_not_post_it_again(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    fake.drop_responses("chat.postMessage")
    event = mention_event("what is 550 Permission denied?")
    slack.event(event_body(event))

    def lookups() -> list:
        return [
            c
            for c in fake.calls_to("conversations.replies")
            if c.body.get("ts") == event["ts"] and c.body.get("include_all_metadata")
        ]

    # Either errdesk looked for its reply before posting again, or it posted again.
    fake.wait_for(lambda: len(fake.thread_posts(event["ts"])) > 1 or lookups())
    fake.wait_for(
        lambda: (
            len(fake.thread_posts(event["ts"])) > 1
            or server.metric('errdesk_outbox_replies_total{outcome="found_posted"}') >= 1
        )
    )
    (post,) = fake.thread_posts(event["ts"])
    assert post.body["metadata"]["event_type"] == "errdesk_reply"


def test_a_channel_held_by_retry_after_does_not_hold_up_another(
    fake: FakeSlack, slack: SlackSender
) -> None:
    fake.rate_limit("C0SLOW001", 30)
    held = [mention_event(f"{n}: 421 Too many connections", channel="C0SLOW001") for n in range(5)]
    for event in held:
        slack.event(event_body(event))
    other = mention_event("421 Too many connections", channel="C0FAST001")
    slack.event(event_body(other))
    fake.wait_for(lambda: fake.thread_posts(other["ts"]), timeout=10)
    assert fake.limited("C0SLOW001"), "the other channel's reply waited out the Retry-After"
    assert not any(fake.thread_posts(event["ts"]) for event in held)
