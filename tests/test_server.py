"""`errdesk serve` in process: refusals, payloads, readiness, start-up warnings, a clean stop."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from bot import health, metrics, server
from bot.engine import Engine
from bot.state import MemoryStore
from tests.conftest import make_settings
from tests.fake_slack import APP_TOKEN, FakeSlack
from tests.support import free_port, logged

REFUSED = metrics.REQUESTS.labels(kind="http", outcome="bad_signature")


def post(app: Any, body: bytes) -> str:
    """POST `body` to the WSGI app with a wrong signature; the status."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": str(int(time.time())),
        "HTTP_X_SLACK_SIGNATURE": "v0=" + "0" * 64,
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    statuses: list[str] = []
    _ = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0]


def get(app: Any, path: str) -> tuple[str, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": path}
    setup_testing_defaults(environ)
    statuses: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    return statuses[0], body


def test_refused_signatures_are_counted_and_never_logged_with_the_request(
    fake_slack: FakeSlack, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    app = server.make_wsgi_app(make_settings(fake_slack), engine, MemoryStore())
    body = json.dumps({"type": "event_callback", "event": {"text": "PASS hunter22"}}).encode()
    before = REFUSED._value.get()
    with caplog.at_level(logging.WARNING, logger="errdesk.front"):
        assert [post(app, body) for _ in range(3)] == ["401 Unauthorized"] * 3
    assert REFUSED._value.get() == before + 3
    lines = [r.getMessage() for r in caplog.records if r.name == "errdesk.front"]
    assert len(lines) <= 1, "at most one line a minute"
    assert all("hunter22" not in line and "v0=" not in line for line in lines)
    assert not fake_slack.calls_to("chat.postMessage")


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "event_callback", "event": "a string"},
        {"type": "event_callback", "event": None},
        {"type": "event_callback", "event": {"type": "message", "user": 5}},
        {"type": "event_callback", "authorizations": "UBOT0001"},
        {"type": "event_callback", "event": {"type": "message_changed", "message": [1]}},
        {"type": "block_actions", "actions": [1, 2]},
        {"type": 7},
        [1, 2],
    ],
    ids=[
        "event-str",
        "event-null",
        "user-number",
        "auth-str",
        "message-list",
        "actions",
        "type",
        "list",
    ],
)
def test_payloads_slack_never_sends_are_named(payload: object) -> None:
    assert server.payload_problem(payload) is not None


def test_payload_nested_too_deep_is_named() -> None:
    deep: list = []
    for _ in range(server.MAX_PAYLOAD_DEPTH + 1):
        deep = [deep]
    problem = server.payload_problem({"type": "event_callback", "event": {"blocks": deep}})
    assert problem is not None
    assert "nested deeper" in problem


def test_slacks_own_payloads_pass(fake_slack: FakeSlack) -> None:
    from tests.conftest import action_payload, event_body, mention_event

    mention = event_body(mention_event("425"))
    click = action_payload("errdesk_helpful", "ftp 425", fake_slack.response_url("x"))
    click["enterprise"] = None
    assert server.payload_problem(mention) is None
    assert server.payload_problem(click) is None


def test_readyz_waits_for_the_identity(fake_slack: FakeSlack, engine: Engine) -> None:
    fake_slack.fail("auth.test", error="invalid_auth", times=100)
    app = server.make_wsgi_app(make_settings(fake_slack), engine, MemoryStore())
    fake_slack.wait_for(lambda: fake_slack.calls_to("auth.test", ok_only=False))
    status, body = get(app, "/readyz")
    assert status == "503 Service Unavailable"
    assert b"Slack identity unknown" in body


class _NoGunicorn:
    def __init__(self, factory: object, options: dict[str, Any]) -> None:
        self.options = options

    def run(self) -> None:
        return None


@pytest.mark.parametrize("workers", ["1", "3"])
def test_several_workers_without_redis_need_no_warning_they_share_the_embedded_store(
    fake_slack: FakeSlack,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    workers: str,
) -> None:
    monkeypatch.setattr(server, "GunicornServer", _NoGunicorn)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with caplog.at_level(logging.INFO, logger="errdesk.server"):
        assert server.serve_http(make_settings(fake_slack, WEB_CONCURRENCY=workers), engine) == 0
    records = logged(caplog, "errdesk.server")
    assert not [r for r in records if r.levelno >= logging.WARNING]
    assert any("state in sqlite" in r.getMessage() for r in records)


def test_gunicorn_waits_for_the_stop_grace_and_then_some(fake_slack: FakeSlack) -> None:
    options = server.gunicorn_options(make_settings(fake_slack, ERRDESK_STOP_GRACE="7"))
    assert options["graceful_timeout"] == 7 + server.STOP_MARGIN_SECONDS
    assert callable(options["worker_exit"]), "the outbox is not closed when a worker exits"


@pytest.fixture
def health_servers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The health servers serve_socket_mode starts, kept to look at after it returns."""
    started: list[Any] = []
    start = health.start_health_server

    def keep(*args: Any, **kwargs: Any) -> Any:
        result = start(*args, **kwargs)
        started.append(result[0])
        return result

    monkeypatch.setattr(health, "start_health_server", keep)
    return started


def socket_settings(fake: FakeSlack, port: int) -> Any:
    return make_settings(fake, SLACK_APP_TOKEN=APP_TOKEN, PORT=str(port))


def test_socket_mode_closes_its_health_port_when_it_stops(
    fake_slack: FakeSlack, engine: Engine, health_servers: list[Any]
) -> None:
    port = free_port()
    stop = threading.Event()
    status: list[int] = []
    runner = threading.Thread(
        target=lambda: status.append(
            server.serve_socket_mode(socket_settings(fake_slack, port), engine, stop)
        )
    )
    runner.start()
    try:
        fake_slack.wait_for(lambda: _answers(port, "/readyz") == 200)
    finally:
        stop.set()
        runner.join(timeout=15)
    assert status == [0]
    (health_server,) = health_servers
    assert health_server.socket.fileno() == -1, "the listening socket is still open"


def test_socket_mode_closes_its_health_port_when_it_cannot_connect(
    fake_slack: FakeSlack, engine: Engine, health_servers: list[Any]
) -> None:
    fake_slack.fail("apps.connections.open", error="invalid_auth")
    settings = socket_settings(fake_slack, free_port())
    assert server.serve_socket_mode(settings, engine, threading.Event()) == 1
    (health_server,) = health_servers
    assert health_server.socket.fileno() == -1, "the listening socket is still open"


def _answers(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0
