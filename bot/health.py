"""The operator endpoints: /healthz (alive), /readyz (can serve), /metrics (Prometheus).

`handle` is a WSGI helper the HTTP server calls before Bolt: it answers these three paths and
returns None for anything else. In Socket Mode there is no HTTP server for Slack, so
`start_health_server` serves the same endpoints on their own port.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bot import metrics

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

Readiness = Callable[[], tuple[bool, str]]
HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
TEXT = "text/plain; charset=utf-8"


def handle(
    environ: WSGIEnvironment, start_response: StartResponse, *, ready: Readiness
) -> Iterable[bytes] | None:
    """The response for a health path, or None so the caller passes the request on."""
    path = environ.get("PATH_INFO", "")
    if path not in HEALTH_PATHS:
        return None
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        status, body, content_type = "405 Method Not Allowed", b"use GET\n", TEXT
        extra_headers = [("Allow", "GET, HEAD")]
    else:
        status, body, content_type = _respond(path, ready)
        extra_headers = []
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *extra_headers,
    ]
    start_response(status, headers)
    return [b""] if method == "HEAD" else [body]


def _respond(path: str, ready: Readiness) -> tuple[str, bytes, str]:
    if path == "/healthz":
        return "200 OK", b"ok\n", TEXT
    if path == "/metrics":
        body, content_type = metrics.exposition()
        return "200 OK", body, content_type
    try:
        is_ready, reason = ready()
    except Exception:
        log.exception("readiness check failed")
        is_ready, reason = False, "readiness check failed"
    if is_ready:
        return "200 OK", f"{reason or 'ready'}\n".encode(), TEXT
    return "503 Service Unavailable", f"not ready: {reason}\n".encode(), TEXT


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request, so a slow scrape never holds up a health probe."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """Probes arrive every few seconds; their access lines go to DEBUG, not stderr."""

    def log_message(self, format: str, *args: object) -> None:
        log.debug("health server: " + format, *args)


def start_health_server(
    port: int, ready: Readiness, host: str = "0.0.0.0"
) -> tuple[WSGIServer, threading.Thread]:
    """Serve the health paths on `port` from a daemon thread (port 0 picks a free one).

    Other paths get 404. Stop it with `server.shutdown()`, then `server.server_close()` to free
    the port; the daemon thread never keeps the process alive on its own.
    """

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = handle(environ, start_response, ready=ready)
        if response is not None:
            return response
        body = b"not found\n"
        start_response(
            "404 Not Found", [("Content-Type", TEXT), ("Content-Length", str(len(body)))]
        )
        return [body]

    server = make_server(
        host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="errdesk-health", daemon=True)
    thread.start()
    return server, thread
