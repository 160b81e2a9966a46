"""`errdesk serve` in HTTP mode, as a subprocess, driven exactly as Slack drives it.

One server and one fake Slack serve the whole module; each test uses its own event ids and
message timestamps, so the order of the tests does not matter.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.render.blocks import ACTION_HELPFUL, ACTION_MORE, ACTION_SHARE
from tests.conftest import (
    HUMAN,
    action_payload,
    command_form,
    event_body,
    mention_event,
    message_event,
    shortcut_payload,
)
from tests.e2e.servers import ServerProcess, SlackSender, serve_env, serving
from tests.fake_slack import BOT_USER_ID, FakeSlack

pytestmark = pytest.mark.e2e

ERROR = "Response: 425 Can't open data connection."
HANDLED = 'errdesk_requests_total{kind="%s",outcome="%s"}'
# As long as a Slack message gets, with everything Slack's markup would act on.
# Share clicks whose listeners wait for their post at once: more than Bolt's default pool of 5.
SHARES_IN_FLIGHT = 8
HOSTILE = ("<!channel> *bold* ```x``` 550 Permission denied & <@U0BOSS01> " * 700)[:40_000]


@pytest.fixture(scope="module")
def server(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(serve_env(fake, ERRDESK_LOG_FORMAT="json"), log) as process:
        yield process


@pytest.fixture(scope="module")
def slack(server: ServerProcess) -> SlackSender:
    return SlackSender(server.url)


def refused_posts(fake: FakeSlack, channel: str) -> list[object]:
    posts = fake.calls_to("chat.postMessage", ok_only=False)
    return [post for post in posts if post.body.get("channel") == channel and post.status != 200]


class Handled:
    """How many requests of a kind the server finished with an outcome, from its /metrics.

    Bolt acknowledges an event before its listener runs, so a test that asserts that nothing
    was posted first waits for the server to count the request as handled.
    """

    def __init__(self, server: ServerProcess, kind: str, outcome: str) -> None:
        self.server, self.sample = server, HANDLED % (kind, outcome)
        self.before = server.metric(self.sample)

    def reaches(self, fake: FakeSlack, more: int) -> None:
        fake.wait_for(lambda: self.server.metric(self.sample) >= self.before + more)
        assert self.server.metric(self.sample) == self.before + more


def test_health_endpoints_answer(server: ServerProcess) -> None:
    assert server.get("/healthz")[0] == 200
    status, body = server.get("/readyz")
    assert status == 200
    assert "entries" in body
    assert server.get("/metrics")[0] == 200


def test_the_request_url_check_is_answered(slack: SlackSender) -> None:
    reply = slack.post(
        json.dumps({"token": "x", "challenge": "ch4llenge", "type": "url_verification"}),
        "application/json",
    )
    assert reply.status == 200
    assert "ch4llenge" in reply.body


def test_a_mention_is_answered_in_its_thread(fake: FakeSlack, slack: SlackSender) -> None:
    event = mention_event("what does 425 Can't open data connection mean?")
    reply = slack.event(event_body(event))
    assert reply.status == 200
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    assert post.body["channel"] == event["channel"]
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")
    assert post.headers["authorization"].startswith("Bearer xoxb-")


def test_a_direct_message_is_answered_in_the_conversation_and_once(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    replied = Handled(server, "direct", "replied")
    event = message_event(ERROR, channel="D0HUMAN01", channel_type="im")
    assert slack.event(event_body(event)).status == 200
    (post,) = fake.wait_for(
        lambda: [p for p in fake.posts() if p.body.get("channel") == "D0HUMAN01"]
    )
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")
    replied.reaches(fake, 1)  # the direct-message listener took it, not the channel one


def test_a_retried_event_is_answered_once(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    duplicates = Handled(server, "message", "duplicate")
    event = message_event(ERROR)
    body = event_body(event)
    assert slack.event(body).status == 200
    assert slack.event(body, retry_num=1).status == 200
    assert slack.event(body, retry_num=2).status == 200
    fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    duplicates.reaches(fake, 2)
    assert len(fake.thread_posts(event["ts"])) == 1


def test_mention_and_message_for_one_ts_give_one_reply(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    ignored = Handled(server, "message", "ignored")
    as_mention = mention_event(ERROR, channel="C0HELP001")
    as_message = {**as_mention, "type": "message", "channel_type": "channel"}
    slack.event(event_body(as_message))
    slack.event(event_body(as_mention))
    fake.wait_for(lambda: fake.thread_posts(as_mention["ts"]))
    ignored.reaches(fake, 1)  # the message listener leaves a mention to app_mention
    assert len(fake.thread_posts(as_mention["ts"])) == 1


@pytest.mark.parametrize(
    ("fields", "ignored"),
    [
        ({"bot_id": "B0OTHER01"}, 1),
        ({"subtype": "bot_message", "bot_id": "B0OTHER01"}, 1),
        # Bolt drops the bot's own events inside the request, before any listener: when the
        # 200 arrives nothing is left to run, and no listener counts it.
        ({"user": BOT_USER_ID}, 0),
        ({"subtype": "message_changed"}, 1),
        ({"subtype": "message_deleted"}, 1),
        ({"subtype": "channel_join"}, 1),
    ],
    ids=["bot", "bot_message", "itself", "edit", "delete", "join"],
)
def test_never_answers_bots_itself_or_other_subtypes(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess, fields: dict, ignored: int
) -> None:
    handled = Handled(server, "message", "ignored")
    event = message_event(ERROR, **fields)
    assert slack.event(event_body(event)).status == 200
    handled.reaches(fake, ignored)
    control = message_event(ERROR)  # the same text from a person is answered
    slack.event(event_body(control))
    fake.wait_for(lambda: fake.thread_posts(control["ts"]))
    assert fake.thread_posts(event["ts"]) == []
    assert server.metric(handled.sample) == handled.before + ignored


def test_never_answers_outside_the_autoreply_channels(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    handled = Handled(server, "message", "ignored")
    event = message_event(ERROR, channel="C0RANDOM1")
    slack.event(event_body(event))
    handled.reaches(fake, 1)
    assert fake.thread_posts(event["ts"]) == []
    control = message_event(ERROR)
    slack.event(event_body(control))
    fake.wait_for(lambda: fake.thread_posts(control["ts"]))
    assert fake.thread_posts(event["ts"]) == []


def test_never_the_same_code_twice_in_a_thread(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    explained = Handled(server, "message", "already_explained")
    first = message_event(ERROR)
    slack.event(event_body(first))
    fake.wait_for(lambda: fake.thread_posts(first["ts"]))
    again = message_event(f"still: {ERROR}", thread_ts=first["ts"])
    slack.event(event_body(again))
    other = message_event("Response: 530 Login incorrect.", thread_ts=first["ts"])
    slack.event(event_body(other))
    fake.wait_for(lambda: len(fake.thread_posts(first["ts"])) == 2)
    explained.reaches(fake, 1)
    headers = [p.body["blocks"][0]["text"]["text"][:7] for p in fake.thread_posts(first["ts"])]
    assert sorted(headers) == ["FTP 425", "FTP 530"]


def test_a_shared_log_file_is_triaged(fake: FakeSlack, slack: SlackSender) -> None:
    fake.add_file("F0E2ELOG1", b"Command: STOR a.csv\nResponse: 553 File name not allowed.\n")
    event = message_event("log attached", subtype="file_share")
    event["files"] = [{"id": "F0E2ELOG1"}]
    slack.event(event_body(event))
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 553")
    assert fake.calls_to("files/F0E2ELOG1")


def test_a_secret_is_called_out_and_never_logged(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    event = message_event("Command: PASS s3cr3t-pw\nResponse: 530 Login incorrect.")
    slack.event(event_body(event))
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    (warning,) = [
        c for c in fake.calls_to("chat.postEphemeral") if c.body.get("thread_ts") == event["ts"]
    ]
    assert "Delete the message" in warning.body["text"]
    assert "s3cr3t-pw" not in post.text
    assert "s3cr3t-pw" not in server.log
    assert "Login incorrect" not in server.log
    assert "xoxb-" not in server.log


def test_errcode_is_acknowledged_within_3_seconds_even_for_a_huge_hostile_text(
    fake: FakeSlack, slack: SlackSender
) -> None:
    reply = slack.command(command_form(HOSTILE, fake.response_url("huge")))
    assert reply.status == 200
    assert reply.body == ""
    assert reply.seconds < 3.0, f"acknowledged after {reply.seconds:.3f} s"
    print(
        f"\n/errcode acknowledgement for {len(HOSTILE)} characters: {reply.seconds * 1000:.0f} ms"
    )
    (answer,) = fake.wait_for(
        lambda: [c for c in fake.responses() if c.method == "respond/huge"], timeout=20
    )
    assert answer.body["response_type"] == "ephemeral"
    assert "<!channel>" not in answer.text


def test_errcode_is_acknowledged_while_share_clicks_wait_on_a_rate_limited_channel(
    fake: FakeSlack, slack: SlackSender
) -> None:
    fake.rate_limit("C0STARVE1", 60)
    share = json.dumps({"q": "425"})
    clicks = [
        {
            **action_payload(
                ACTION_SHARE, share, fake.response_url(f"starve{n}"), channel="C0STARVE1"
            ),
            "trigger_id": f"starve-{n}",
        }
        for n in range(SHARES_IN_FLIGHT)
    ]
    with ThreadPoolExecutor(SHARES_IN_FLIGHT) as clicking:
        acks = list(clicking.map(slack.action, clicks))
        fake.wait_for(lambda: fake.limited("C0STARVE1") and refused_posts(fake, "C0STARVE1"))
        reply = slack.command(command_form("550", fake.response_url("starved")))
    assert [ack.status for ack in acks] == [200] * SHARES_IN_FLIGHT
    assert reply.status == 200, f"{reply.status} {reply.body[:80]!r}"
    assert reply.seconds < 3.0, f"acknowledged after {reply.seconds:.3f} s"


def test_errcode_answers_privately_and_the_share_button_posts_publicly(
    fake: FakeSlack, slack: SlackSender
) -> None:
    reply = slack.command(command_form("500", fake.response_url("ask500"), channel="C0SHARE01"))
    assert reply.status == 200
    (answer,) = fake.wait_for(lambda: [c for c in fake.responses() if c.method == "respond/ask500"])
    assert answer.body["response_type"] == "ephemeral"
    assert "HTTP 500" in answer.text  # the other reading of an ambiguous code
    share = next(e for e in answer.body["blocks"][-1]["elements"] if e["action_id"] == ACTION_SHARE)
    click = action_payload(
        ACTION_SHARE, share["value"], fake.response_url("share500"), channel="C0SHARE01"
    )
    click["container"]["is_ephemeral"] = True
    assert slack.action(click).status == 200
    (post,) = fake.wait_for(
        lambda: [p for p in fake.posts() if p.body.get("channel") == "C0SHARE01"]
    )
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 500")
    assert f"<@{HUMAN}>" in post.text
    fake.wait_for(lambda: [c for c in fake.responses() if c.method == "respond/share500"])


def test_a_message_shortcut_is_answered_privately_on_its_response_url(
    fake: FakeSlack, slack: SlackSender
) -> None:
    picked = shortcut_payload(f"CI: deploy failed. {ERROR}", fake.response_url("picked"))
    reply = slack.action(picked)
    assert reply.status == 200
    assert reply.body == "", "an empty acknowledgement: the answer follows on the response_url"
    (answer,) = fake.wait_for(lambda: _sent_to(fake, "respond/picked"))
    assert answer.body["response_type"] == "ephemeral", "only the person who picked it sees it"
    assert answer.body["blocks"][0]["text"]["text"].startswith("FTP 425")
    assert fake.thread_posts(picked["message_ts"]) == [], "nothing is posted in the channel"


def test_a_message_shortcut_on_a_huge_hostile_message_is_acknowledged_within_3_seconds(
    fake: FakeSlack, slack: SlackSender
) -> None:
    reply = slack.action(shortcut_payload(HOSTILE, fake.response_url("hugepick")))
    assert reply.status == 200
    assert reply.seconds < 3.0, f"acknowledged after {reply.seconds:.3f} s"
    (answer,) = fake.wait_for(lambda: _sent_to(fake, "respond/hugepick"), timeout=20)
    assert answer.body["response_type"] == "ephemeral"
    assert "<!channel>" not in answer.text, "user text is shown, never acted on"


def test_sharing_a_shortcut_answer_posts_in_the_picked_messages_thread(
    fake: FakeSlack, slack: SlackSender
) -> None:
    picked = shortcut_payload(ERROR, fake.response_url("pickshare"), channel="C0SHARE02")
    slack.action(picked)
    (answer,) = fake.wait_for(lambda: _sent_to(fake, "respond/pickshare"))
    share = next(e for e in answer.body["blocks"][-1]["elements"] if e["action_id"] == ACTION_SHARE)
    click = action_payload(
        ACTION_SHARE, share["value"], fake.response_url("pickshared"), channel="C0SHARE02"
    )
    click["container"]["is_ephemeral"] = True
    assert slack.action(click).status == 200
    (post,) = fake.wait_for(lambda: fake.thread_posts(picked["message_ts"]))
    assert post.body["channel"] == "C0SHARE02"
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")
    assert f"<@{HUMAN}>" in post.text, "credited to whoever shared it"


def test_usage_and_family_listing(fake: FakeSlack, slack: SlackSender) -> None:
    slack.command(command_form("", fake.response_url("usage")))
    slack.command(command_form("list ftp 5xx", fake.response_url("family")))
    (usage,) = fake.wait_for(lambda: [c for c in fake.responses() if c.method == "respond/usage"])
    (family,) = fake.wait_for(lambda: [c for c in fake.responses() if c.method == "respond/family"])
    assert "/errcode list ftp 5xx" in usage.text
    assert "FTP 550" in family.text


def test_feedback_updates_the_message(fake: FakeSlack, slack: SlackSender) -> None:
    event = mention_event("ECONNRESET")
    slack.event(event_body(event))
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    message = {"ts": "1700009999.000100", "text": post.body["text"], "blocks": post.body["blocks"]}
    click = action_payload(ACTION_HELPFUL, "winsock 10054", fake.response_url("v"), message=message)
    assert slack.action(click).status == 200
    (update,) = fake.wait_for(
        lambda: [c for c in fake.calls_to("chat.update") if c.body["ts"] == message["ts"]]
    )
    assert "Helpful: 1" in update.text


PASSIVE_TIMEOUT = (
    "Command:\tPASV\nResponse:\t227 Entering Passive Mode (10,0,0,5,195,80)\n"
    "Command:\tMLSD\nError:\tConnection timed out after 20 seconds of inactivity"
)


def more_value(blocks: list[dict]) -> str:
    (value,) = [e["value"] for e in blocks[-1]["elements"] if e["action_id"] == ACTION_MORE]
    return value


def test_more_steps_expands_a_private_answer_in_place(fake: FakeSlack, slack: SlackSender) -> None:
    slack.command(command_form(PASSIVE_TIMEOUT, fake.response_url("short")))
    (short,) = fake.wait_for(lambda: [c for c in fake.responses() if c.method == "respond/short"])
    click = action_payload(
        ACTION_MORE, more_value(short.body["blocks"]), fake.response_url("full"), ephemeral=True
    )
    assert slack.action(click).status == 200
    (full,) = fake.wait_for(lambda: [c for c in fake.responses() if c.method == "respond/full"])
    assert full.body["replace_original"] is True
    assert len(full.text) > len(short.text)
    assert ACTION_MORE not in json.dumps(full.body["blocks"])


def test_more_steps_expands_a_thread_reply_in_place(fake: FakeSlack, slack: SlackSender) -> None:
    event = message_event(PASSIVE_TIMEOUT)
    slack.event(event_body(event))
    (short,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    fake.add_thread(event["channel"], event["ts"], [event])
    reply = {"ts": "1700008888.000100", "text": short.body["text"], "blocks": short.body["blocks"]}
    click = action_payload(
        ACTION_MORE,
        more_value(short.body["blocks"]),
        fake.response_url("fullthread"),
        channel=event["channel"],
        message=reply,
    )
    assert slack.action(click).status == 200
    (update,) = fake.wait_for(
        lambda: [c for c in fake.calls_to("chat.update") if c.body["ts"] == reply["ts"]]
    )
    assert len(update.text) > len(short.text)
    assert ACTION_MORE not in json.dumps(update.body["blocks"])


def test_a_rate_limited_reply_is_retried_after_retry_after(
    fake: FakeSlack, slack: SlackSender
) -> None:
    event = message_event(ERROR)
    fake.fail("chat.postMessage", status=429, retry_after=1)
    slack.event(event_body(event))
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]), timeout=15)
    attempts = [
        c
        for c in fake.calls_to("chat.postMessage", ok_only=False)
        if c.body.get("thread_ts") == event["ts"]
    ]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert post is attempts[1]


def test_a_rate_limited_response_url_is_retried_after_retry_after(
    fake: FakeSlack, slack: SlackSender
) -> None:
    fake.fail("respond/limited", status=429, retry_after=1)
    assert slack.command(command_form("425", fake.response_url("limited"))).status == 200
    fake.wait_for(lambda: _sent_to(fake, "respond/limited"), timeout=15)
    attempts = [c for c in fake.responses() if c.method == "respond/limited"]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert attempts[1].body["blocks"][0]["text"]["text"].startswith("FTP 425")


def _sent_to(fake: FakeSlack, method: str) -> list:
    return [c for c in fake.responses(ok_only=True) if c.method == method]


def test_a_server_error_is_retried(fake: FakeSlack, slack: SlackSender) -> None:
    event = message_event(ERROR)
    fake.fail("chat.postMessage", status=503)
    slack.event(event_body(event))
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]), timeout=15)
    attempts = [
        c
        for c in fake.calls_to("chat.postMessage", ok_only=False)
        if c.body.get("thread_ts") == event["ts"]
    ]
    assert [c.status for c in attempts] == [503, 200], "a 503 first, then the retry that posts"
    assert post is attempts[1]


def test_a_reply_slack_refused_is_posted_when_slack_retries_the_event(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    refused = 'errdesk_outbox_replies_total{outcome="refused"}'
    before = server.metric(refused)
    fake.fail("chat.postMessage", error="channel_not_found")
    event = message_event(ERROR)
    body = event_body(event)
    assert slack.event(body).status == 200
    fake.wait_for(lambda: server.metric(refused) == before + 1)
    assert slack.event(body, retry_num=1).status == 200
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")


def test_channel_not_found_is_logged_and_counted_and_the_bot_carries_on(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    metric = 'errdesk_slack_api_errors_total{error="channel_not_found",method="chat.postMessage"}'
    before = server.metric(metric)
    fake.fail("chat.postMessage", error="channel_not_found")
    lost = message_event(ERROR)
    slack.event(event_body(lost))
    fake.wait_for(lambda: server.metric(metric) == before + 1)
    after = message_event(ERROR)
    slack.event(event_body(after))
    fake.wait_for(lambda: fake.thread_posts(after["ts"]))
    assert "chat.postMessage failed: channel_not_found" in server.log


def test_bad_or_missing_signatures_and_stale_requests_get_401_and_no_action(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    refused = Handled(server, "http", "bad_signature")
    event = message_event(ERROR)
    body = json.dumps(event_body(event))
    bad = slack.post(body, "application/json", signature="v0=" + "0" * 64)
    missing = slack.post(body, "application/json", signed=False)
    stale = slack.post(body, "application/json", timestamp=int(time.time()) - 600)
    assert [r.status for r in (bad, missing, stale)] == [401, 401, 401]
    assert server.metric(refused.sample) == refused.before + 3
    assert "with a missing, wrong or expired Slack signature" in server.log
    assert "0" * 64 not in server.log
    control = message_event(ERROR)
    slack.event(event_body(control))
    fake.wait_for(lambda: fake.thread_posts(control["ts"]))
    assert fake.thread_posts(event["ts"]) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback"}', "application/json"),
        (b"\xff\xfe{}", "application/json"),
    ],
    ids=["json", "form-payload", "payload-list", "no-event", "not-utf8"],
)
def test_malformed_payloads_get_a_4xx_without_a_stack_trace(
    slack: SlackSender, body: str | bytes, content_type: str
) -> None:
    reply = slack.post(body, content_type)
    assert 400 <= reply.status < 500
    assert "Traceback" not in reply.body
    assert "Error" not in reply.body


def test_oversized_bodies_are_refused_before_reading(server: ServerProcess) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", "2100000")
        connection.endheaders(b"{}")
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_every_log_line_is_json_when_asked_for(server: ServerProcess) -> None:
    lines = [line for line in server.log.splitlines() if line.strip()]
    assert any('"logger": "gunicorn.error"' in line for line in lines)
    for line in lines:
        assert isinstance(json.loads(line), dict), line


def test_sigterm_stops_the_server_cleanly(fake: FakeSlack, tmp_path: Path) -> None:
    process = ServerProcess(serve_env(fake), tmp_path / "stop.log")
    try:
        process.wait_ready()
    finally:
        started = time.monotonic()
        status = process.stop()
    assert status == 0, process.log
    assert time.monotonic() - started < 10
    assert "Traceback" not in process.log
