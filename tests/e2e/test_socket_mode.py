"""`errdesk serve` in Socket Mode, as a subprocess, on the fake's websocket.

The fake answers apps.connections.open with a ws://127.0.0.1 URL, then sends envelopes the way
Slack does; the bot must acknowledge each envelope_id on the socket and reply on the Web API.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import (
    command_form,
    event_body,
    mention_event,
    message_event,
    shortcut_payload,
)
from tests.e2e.servers import ServerProcess, serve_env, serving
from tests.fake_slack import APP_TOKEN, FakeSlack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("socket") / "serve.log"
    with serving(serve_env(fake, socket_mode=True), log) as process:
        yield process


def envelope(kind: str, payload: dict, **extra: object) -> dict:
    return {
        "envelope_id": str(uuid.uuid4()),
        "type": kind,
        "accepts_response_payload": kind != "events_api",
        "payload": payload,
        **extra,
    }


def test_it_connects_with_the_app_token_and_reports_ready(
    fake: FakeSlack, server: ServerProcess
) -> None:
    (opened, *_) = fake.calls_to("apps.connections.open")
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"
    status, body = server.get("/readyz")
    assert status == 200
    assert "entries" in body
    assert server.get("/healthz")[0] == 200


def test_an_event_envelope_is_acknowledged_and_answered(
    fake: FakeSlack, server: ServerProcess
) -> None:
    event = mention_event("what does ECONNRESET mean?")
    sent = envelope("events_api", event_body(event), retry_attempt=0, retry_reason="")
    fake.send_envelope(sent)
    ack = fake.wait_for(lambda: fake.ack_for(sent["envelope_id"]))
    assert ack == {"envelope_id": sent["envelope_id"]}
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    assert post.body["blocks"][0]["text"]["text"].startswith("WINSOCK 10054")
    assert post.headers["authorization"].startswith("Bearer xoxb-")


def test_a_redelivered_event_is_answered_once(fake: FakeSlack, server: ServerProcess) -> None:
    duplicates = 'errdesk_requests_total{kind="message",outcome="duplicate"}'
    before = server.metric(duplicates)
    event = message_event("Response: 421 Too many connections from this IP.")
    body = event_body(event)
    first = envelope("events_api", body, retry_attempt=0, retry_reason="")
    again = envelope("events_api", body, retry_attempt=1, retry_reason="timeout")
    fake.send_envelope(first)
    fake.send_envelope(again)
    fake.wait_for(lambda: fake.ack_for(first["envelope_id"]) and fake.ack_for(again["envelope_id"]))
    fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    fake.wait_for(lambda: server.metric(duplicates) == before + 1)  # the second was handled
    assert len(fake.thread_posts(event["ts"])) == 1


def test_a_slash_command_envelope_is_acknowledged_and_answered_privately(
    fake: FakeSlack, server: ServerProcess
) -> None:
    sent = envelope("slash_commands", command_form("sftp 3", fake.response_url("socket-cmd")))
    fake.send_envelope(sent)
    ack = fake.wait_for(lambda: fake.ack_for(sent["envelope_id"]))
    assert ack["envelope_id"] == sent["envelope_id"]
    (answer,) = fake.wait_for(
        lambda: [c for c in fake.responses() if c.method == "respond/socket-cmd"]
    )
    assert answer.body["response_type"] == "ephemeral"
    assert answer.body["blocks"][0]["text"]["text"].startswith("SFTP 3")


def test_a_message_shortcut_envelope_is_acknowledged_and_answered_privately(
    fake: FakeSlack, server: ServerProcess
) -> None:
    picked = shortcut_payload("Error: ECONNRESET", fake.response_url("socket-pick"))
    sent = envelope("interactive", picked)
    fake.send_envelope(sent)
    ack = fake.wait_for(lambda: fake.ack_for(sent["envelope_id"]))
    assert ack["envelope_id"] == sent["envelope_id"]
    (answer,) = fake.wait_for(
        lambda: [c for c in fake.responses() if c.method == "respond/socket-pick"]
    )
    assert answer.body["response_type"] == "ephemeral", "only the person who picked it sees it"
    assert answer.body["blocks"][0]["text"]["text"].startswith("WINSOCK 10054")


def test_sigterm_disconnects_and_exits_cleanly(fake: FakeSlack, tmp_path) -> None:
    process = ServerProcess(serve_env(fake, socket_mode=True), tmp_path / "stop.log")
    try:
        process.wait_ready()
    finally:
        status = process.stop()
    assert status == 0, process.log
    assert "Traceback" not in process.log


def test_a_rejected_app_token_stops_it_with_one_clear_line(tmp_path) -> None:
    fake = FakeSlack()
    try:
        fake.fail("apps.connections.open", error="invalid_auth")
        process = ServerProcess(serve_env(fake, socket_mode=True), tmp_path / "bad.log")
        try:
            status = process.process.wait(timeout=20)
        finally:
            process.stop()
    finally:
        fake.close()
    assert status == 1
    assert "Socket Mode could not connect: invalid_auth" in process.log
    assert "Traceback" not in process.log
