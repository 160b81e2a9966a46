"""The HTTP front in process, over real sockets: deadlines, limits, keep-alive, refusals."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from bot import front, metrics

HELLO = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"


def hello_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    text = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {len(body)}".encode()
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("a bug")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [text]


@pytest.fixture
def served() -> Iterator[tuple[int, front.HttpFront]]:
    """An HttpFront on 127.0.0.1 with short deadlines, on a loop of its own."""
    limits = front.Limits(max_body=1000, read_seconds=0.5, idle_seconds=0.5, max_connections=20)
    refused = front.RefusedRequests()
    http = front.HttpFront(hello_app, threads=2, limits=limits, refused=refused)
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(http.protocol, "127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server.sockets[0].getsockname()[1], http
    finally:
        loop.call_soon_threadsafe(server.close)
        asyncio.run_coroutine_threadsafe(http.stop(1.0), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def exchange(port: int, data: bytes, *, wait: float = 3.0) -> bytes:
    """Send `data`, then read until the server closes or `wait` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as raw:
        raw.sendall(data)
        return read_all(raw)


def read_all(raw: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := raw.recv(65536):
            received += chunk
    except TimeoutError:
        pass
    return received


def test_a_request_is_answered_and_the_connection_kept(served: tuple[int, front.HttpFront]) -> None:
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
        raw.sendall(HELLO)
        first = raw.recv(65536)
        raw.sendall(HELLO.replace(b"/hello", b"/again"))
        second = raw.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: keep-alive" in first
    assert first.endswith(b"GET /hello 0")
    assert second.endswith(b"GET /again 0")


def test_pipelined_requests_are_answered_in_order(served: tuple[int, front.HttpFront]) -> None:
    port, _ = served
    body = b"abc"
    post = b"POST /p HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\n" + body
    answer = exchange(port, HELLO + post)
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.index(b"GET /hello 0") < answer.index(b"POST /p 3")


def test_a_half_sent_request_gets_408_at_the_deadline(served: tuple[int, front.HttpFront]) -> None:
    port, _ = served
    started = time.monotonic()
    answer = exchange(port, b"POST /slack/events HTTP/1.1\r\nContent-Length: 10\r\n\r\n{")
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert time.monotonic() - started < 2.5


def test_an_idle_connection_is_closed_without_an_answer(
    served: tuple[int, front.HttpFront],
) -> None:
    port, _ = served
    assert exchange(port, b"") == b""


def test_an_oversized_body_gets_413_before_it_is_sent(served: tuple[int, front.HttpFront]) -> None:
    port, _ = served
    answer = exchange(port, b"POST /x HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", wait=0.4)
    assert answer.startswith(b"HTTP/1.1 413 "), answer


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /x HTTP/2.0\r\n\r\n", b"505"),
        (b"GET /x HTTP/1.1\r\nno colon\r\n\r\n", b"400"),
        (b"GET /x HTTP/1.1\r\n folded: header\r\n\r\n", b"400"),
        (b"POST /x HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", b"400"),
        (b"POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", b"400"),
        (b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", b"411"),
        (b"GET /x HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", b"431"),
        (b"GET /x HTTP/1.1\r\nX: " + b"y" * 40_000 + b"\r\n\r\n", b"431"),
    ],
    ids=[
        "line",
        "version",
        "header",
        "folded",
        "length",
        "two-lengths",
        "chunked",
        "fields",
        "huge-header",
    ],
)
def test_malformed_requests_are_refused_and_closed(
    served: tuple[int, front.HttpFront], request_bytes: bytes, status: bytes
) -> None:
    port, _ = served
    answer = exchange(port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status), answer
    assert b"Connection: close" in answer


def test_an_app_that_fails_gets_500_and_one_line_without_a_traceback(
    served: tuple[int, front.HttpFront], caplog: pytest.LogCaptureFixture
) -> None:
    port, _ = served
    with caplog.at_level(logging.INFO, logger="errdesk.front"):
        answer = exchange(port, b"GET /boom HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500 ")
    (record,) = [r for r in caplog.records if r.name == "errdesk.front"]
    assert record.getMessage() == "Request failed: RuntimeError"
    assert not record.exc_info


def test_head_gets_the_headers_only(served: tuple[int, front.HttpFront]) -> None:
    port, _ = served
    answer = exchange(port, b"HEAD /hello HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert answer.endswith(b"\r\n\r\n")
    assert b"Content-Length: 13" in answer


def test_when_crowded_the_longest_waiting_connection_makes_room(
    served: tuple[int, front.HttpFront],
) -> None:
    port, _ = served
    held = [socket.create_connection(("127.0.0.1", port), timeout=3) for _ in range(20)]
    try:
        time.sleep(0.1)
        assert exchange(port, HELLO.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        assert held[0].recv(10) == b"", "the oldest idle connection is closed"
    finally:
        for raw in held:
            raw.close()


def test_refusals_are_logged_once_an_interval_with_their_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    refused = front.RefusedRequests(interval=60, clock=lambda: now[0])
    counted = metrics.REQUESTS.labels(kind="http", outcome="malformed")
    before = counted._value.get()
    with caplog.at_level(logging.WARNING, logger="errdesk.front"):
        for _ in range(5):
            refused.refused("bad_signature")
        refused.refused("malformed")
        refused.flush()
        now[0] += 61
        refused.flush()
        refused.flush()
    lines = [r.getMessage() for r in caplog.records if r.name == "errdesk.front"]
    assert len(lines) == 2
    assert lines[0].startswith("Refused 1 request(s): 1 with a missing, wrong or expired")
    assert "check SLACK_SIGNING_SECRET" in lines[0]
    assert lines[1].startswith("Refused 5 request(s): 4 with a missing, wrong or expired")
    assert "1 malformed" in lines[1]
    assert counted._value.get() == before + 1
