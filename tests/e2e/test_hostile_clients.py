"""`errdesk serve` in HTTP mode under clients that are slow, broken or hostile, and a slow Slack.

Slack disables an app's event subscriptions when more than 5% of its deliveries fail in an
hour, and it gives up on each one after 3 seconds. So whatever other clients do (hold
connections open, send half a request, send garbage), Slack's requests must be acknowledged
within those 3 seconds, and garbage must be refused with a 4xx and no stack trace in the log.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import event_body, message_event
from tests.e2e.servers import (
    ServerProcess,
    SlackSender,
    SlowIdentitySlack,
    serve_env,
    serving,
)
from tests.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

SLACK_DEADLINE = 3.0  # Slack gives up on an acknowledgement after 3 seconds
HELD_CONNECTIONS = 500
ERROR = "Response: 425 Can't open data connection."
HALF_HEADERS = b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applica"
HALF_BODY = (
    b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b'Content-Length: 4000\r\n\r\n{"type": "event_callback", "event": '
)
REFUSED = 'errdesk_requests_total{kind="http",outcome="%s"}'


@pytest.fixture(scope="module")
def server(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("hostile") / "serve.log"
    with serving(serve_env(fake, ERRDESK_LOG_FORMAT="json"), log) as process:
        yield process


@pytest.fixture(scope="module")
def slack(server: ServerProcess) -> SlackSender:
    return SlackSender(server.url)


@contextmanager
def held_open(port: int, count: int, opening: bytes) -> Iterator[list[socket.socket]]:
    """`count` connections that send `opening` (maybe nothing) and then wait, until the end."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            if opening:
                connection.sendall(opening)
            held.append(connection)
        yield held
    finally:
        for connection in held:
            connection.close()


def acknowledged(slack: SlackSender, event: dict) -> int:
    """The status of `event`'s acknowledgement; fails the test if it misses Slack's deadline."""
    try:
        return slack.event(event_body(event), timeout=SLACK_DEADLINE).status
    except TimeoutError:
        pytest.fail(f"the event was not acknowledged within Slack's {SLACK_DEADLINE} s")


def log_since(server: ServerProcess, mark: int) -> list[dict]:
    return [json.loads(line) for line in server.log[mark:].splitlines() if line.strip()]


# --- slow clients: held connections never starve Slack's requests ------------------------------


@pytest.mark.parametrize(
    "opening", [b"", HALF_HEADERS, HALF_BODY], ids=["idle", "half-headers", "half-body"]
)
def test_held_connections_do_not_delay_acks(
    fake: FakeSlack, server: ServerProcess, slack: SlackSender, opening: bytes
) -> None:
    with held_open(server.port, HELD_CONNECTIONS, opening):
        event = message_event(ERROR)
        assert acknowledged(slack, event) == 200
        (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")


@pytest.mark.parametrize("opening", [b"", HALF_HEADERS], ids=["idle", "half-headers"])
def test_held_connections_do_not_delay_healthz(server: ServerProcess, opening: bytes) -> None:
    with held_open(server.port, HELD_CONNECTIONS, opening):
        try:
            status, body = server.get("/healthz", timeout=SLACK_DEADLINE)
        except TimeoutError:
            pytest.fail(f"/healthz did not answer within {SLACK_DEADLINE} s")
    assert (status, body) == (200, "ok\n")


# --- malformed requests: a 4xx, no stack trace, one log line a minute ----------------------------


def odd_events() -> list[tuple[str, str]]:
    """Signed bodies Slack never sends: nested too deep, or an `event` that is not an object."""
    envelope = event_body(message_event(ERROR))
    deep = "[" * 50_000 + "]" * 50_000
    bodies = [
        ("nested", deep),
        ("nested-event", f'{{"type": "event_callback", "event": {{"blocks": {deep}}}}}'),
    ]
    for name, value in (("string", "hello"), ("list", [1, 2]), ("null", None), ("number", 5)):
        bodies.append((f"event-{name}", json.dumps({**envelope, "event": value})))
    return bodies


@pytest.mark.parametrize(("name", "body"), odd_events(), ids=[name for name, _ in odd_events()])
def test_signed_odd_payloads_get_400_without_a_stack_trace(
    server: ServerProcess, slack: SlackSender, name: str, body: str
) -> None:
    mark = len(server.log)
    reply = slack.post(body, "application/json")
    assert reply.status == 400, f"{name}: {reply.status} {reply.body}"
    lines = log_since(server, mark)
    assert not [line for line in lines if line["level"] == "ERROR"], lines
    assert "Traceback" not in server.log[mark:]


@pytest.mark.parametrize(
    "timestamp", ["9" * 400, "1" * 40, "soon", "1e9", "-1", ""], ids=lambda t: t[:8] or "empty"
)
def test_malformed_timestamps_get_a_4xx_without_a_stack_trace(
    server: ServerProcess, slack: SlackSender, timestamp: str
) -> None:
    mark = len(server.log)
    body = json.dumps(event_body(message_event(ERROR)))
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    reply = slack.post(body, "application/json", headers=headers, signed=False)
    assert 400 <= reply.status < 500, reply
    assert "Traceback" not in server.log[mark:]
    assert not [line for line in log_since(server, mark) if line["level"] == "ERROR"]


def test_repeated_refusals_are_counted_and_logged_once(
    server: ServerProcess, slack: SlackSender
) -> None:
    """300 refusals in a row: counted one by one, and at most one warning line says how many."""
    before = server.metric(REFUSED % "malformed")
    mark = len(server.log)
    body = json.dumps(event_body(message_event(ERROR)))
    headers = {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=" + "0" * 64}
    statuses = {
        slack.post(body, "application/json", headers=headers, signed=False).status
        for _ in range(300)
    }
    assert statuses == {400}
    assert server.metric(REFUSED % "malformed") == before + 300
    lines = log_since(server, mark)
    refusals = [line for line in lines if line["message"].startswith("Refused")]
    assert len(refusals) <= 1, refusals
    assert len(lines) <= 2, f"{len(lines)} lines for 300 refusals"


def test_an_oversized_body_is_refused_before_it_is_sent(server: ServerProcess) -> None:
    """413 as soon as the headers announce too much: the body is never waited for."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=SLACK_DEADLINE) as raw:
        raw.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\n\r\n{"
        )
        try:
            answer = raw.recv(200)
        except TimeoutError:
            pytest.fail("no answer while the body was still due")
    assert answer.startswith(b"HTTP/1.1 413 "), answer


# --- a slow or failing Slack at start: acks never wait on the Web API ----------------------------


def test_a_slow_auth_test_at_start_does_not_delay_the_first_acks(tmp_path: Path) -> None:
    slow = SlowIdentitySlack(delay=6.0)
    try:
        with ServerProcess(serve_env(slow), tmp_path / "slow.log") as process:
            process.wait_until("/healthz", 200)
            slack = SlackSender(process.url)
            events = [message_event(ERROR) for _ in range(3)]
            assert [acknowledged(slack, event) for event in events] == [200, 200, 200]
            status, body = process.get("/readyz")
            assert status == 503, body
            assert "identity" in body
            for event in events:  # answered too, without the bot's identity yet
                slow.wait_for(lambda event=event: slow.thread_posts(event["ts"]), timeout=15)
            process.wait_ready(timeout=15)
    finally:
        slow.close()


def test_a_failing_auth_test_makes_readyz_503_and_never_a_slow_ack(tmp_path: Path) -> None:
    failing = FakeSlack()
    failing.fail("auth.test", status=500, times=1_000)
    try:
        with ServerProcess(serve_env(failing), tmp_path / "failing.log") as process:
            process.wait_until("/healthz", 200)
            event = message_event(ERROR)
            assert acknowledged(SlackSender(process.url), event) == 200
            failing.wait_for(lambda: failing.thread_posts(event["ts"]), timeout=15)
            status, body = process.get("/readyz")
            assert status == 503
            assert "Slack identity unknown" in body
            assert "Traceback" not in process.log
    finally:
        failing.close()


def test_identity_is_fetched_again_until_slack_answers(tmp_path: Path) -> None:
    flaky = FakeSlack()
    flaky.fail("auth.test", error="service_unavailable", times=2)
    try:
        with ServerProcess(serve_env(flaky), tmp_path / "flaky.log") as process:
            body = process.wait_ready(timeout=20)
            assert "UBOT0001" in body
            assert len(flaky.calls_to("auth.test", ok_only=False)) == 3
    finally:
        flaky.close()
