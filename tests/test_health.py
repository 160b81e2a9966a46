"""/healthz, /readyz and /metrics, through the WSGI helper and the standalone server."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot import health, metrics


class Response:
    def __init__(self, environ: dict[str, str], ready: health.Readiness) -> None:
        self.status = ""
        self.headers: dict[str, str] = {}
        self.body: bytes | None = None
        chunks = health.handle(environ, self._start, ready=ready)
        if chunks is not None:
            self.body = b"".join(chunks)

    def _start(self, status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        self.status = status
        self.headers = dict(headers)


def get(
    path: str, ready: health.Readiness = lambda: (True, "ready"), method: str = "GET"
) -> Response:
    return Response({"PATH_INFO": path, "REQUEST_METHOD": method}, ready)


def not_ready() -> tuple[bool, str]:
    return False, "Redis unreachable"


def test_healthz_says_ok_even_when_not_ready() -> None:
    response = get("/healthz", not_ready)
    assert response.status == "200 OK"
    assert response.body == b"ok\n"


def test_readyz_is_200_when_ready() -> None:
    response = get("/readyz", lambda: (True, "knowledge loaded, Redis reachable"))
    assert response.status == "200 OK"
    assert response.body == b"knowledge loaded, Redis reachable\n"


def test_readyz_is_503_with_the_reason_when_not_ready() -> None:
    response = get("/readyz", not_ready)
    assert response.status == "503 Service Unavailable"
    assert response.body == b"not ready: Redis unreachable\n"


def test_readyz_is_503_when_the_check_itself_fails() -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("boom")

    assert get("/readyz", broken).status == "503 Service Unavailable"


def test_metrics_move_after_observe_request() -> None:
    def handled_count(text: str) -> float:
        for line in text.splitlines():
            if line.startswith('errdesk_requests_total{kind="health-test",outcome="replied"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = handled_count(get("/metrics").body.decode())
    metrics.observe_request("health-test", "replied", 0.003)
    response = get("/metrics")
    assert response.status == "200 OK"
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert handled_count(response.body.decode()) == before + 1


def test_other_paths_are_left_to_the_caller() -> None:
    assert get("/slack/events", method="POST").body is None
    assert get("/").body is None


def test_only_get_and_head_are_allowed() -> None:
    response = get("/healthz", method="POST")
    assert response.status == "405 Method Not Allowed"
    assert response.headers["Allow"] == "GET, HEAD"
    head = get("/healthz", method="HEAD")
    assert head.status == "200 OK"
    assert head.body == b""


@pytest.fixture
def server_port() -> Iterator[int]:
    server, thread = health.start_health_server(
        0, lambda: (False, "knowledge not loaded"), host="127.0.0.1"
    )
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fetch(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_standalone_server_serves_the_health_paths(server_port: int) -> None:
    assert fetch(server_port, "/healthz") == (200, b"ok\n")
    assert fetch(server_port, "/readyz") == (503, b"not ready: knowledge not loaded\n")
    status, body = fetch(server_port, "/metrics")
    assert status == 200
    assert b"errdesk_requests_total" in body
    assert fetch(server_port, "/slack/events")[0] == 404
