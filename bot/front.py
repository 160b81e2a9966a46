"""The HTTP front: one event loop per worker reads every request whole, within a deadline,
before a thread sees it.

Why not gunicorn's gthread worker, which served errdesk before: it hands a connection to a
thread as soon as the connection is readable, and that thread then blocks until the rest of
the request arrives (and a connection that sends nothing holds a thread for 5 s first). Eight
clients that each send half a request held all eight threads, and every acknowledgement and
/healthz waited behind them for as long as they stayed open. Here a connection is a few
buffers on the event loop until its request is complete: idle and half-sent connections cost
a file descriptor, never a thread. Only a complete request (its headers and its body read
within READ_SECONDS of its first byte) goes to the thread pool that runs the WSGI app; a
request that is not complete by then gets 408 and its connection is closed. The body's size is
known from Content-Length before it is read, so an oversized body gets 413 at once.

`FrontWorker` runs this as a gunicorn worker class, so gunicorn still manages the processes
(WEB_CONCURRENCY workers, signals, restarts, the graceful stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import random
import re
import resource
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from gunicorn.workers.base import Worker

from bot import metrics

if TYPE_CHECKING:
    from types import TracebackType
    from wsgiref.types import WSGIApplication, WSGIEnvironment

log = logging.getLogger("errdesk.front")

# Slack's payloads are a few kilobytes; a larger body is not from Slack.
MAX_BODY_BYTES = 2_000_000
MAX_HEAD_BYTES = 32 * 1024
MAX_HEADER_FIELDS = 100
# A Content-Length longer than this is no body errdesk reads (a terabyte has 13 digits).
MAX_LENGTH_DIGITS = 12
# Slack gives up after 3 s, so a request still arriving after 5 s is of no use to anyone.
READ_SECONDS = 5.0
WRITE_SECONDS = 10.0
IDLE_SECONDS = 5.0
MAX_CONNECTIONS = 10_000
HEARTBEAT_SECONDS = 0.5
# Deadlines fall anywhere in their last quarter: a thousand connections opened together must
# not all be closed in the same instant, with Slack's requests queued behind the closing.
DEADLINE_SPREAD = 0.25
# Answered on the event loop itself: liveness does not queue behind busy threads.
INLINE_PATHS = frozenset({"/healthz"})
# Requests refused are logged at most once in this many seconds.
REFUSED_LOG_SECONDS = 60

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
REASONS = {
    "bad_signature": "with a missing, wrong or expired Slack signature",
    "malformed": "malformed (headers, body or payload that Slack never sends)",
    "too_large": f"with a body over {MAX_BODY_BYTES:,} bytes",
    "slow": f"not sent whole within {READ_SECONDS:.0f} s, or held open idle when crowded",
}


class RefusedRequests:
    """Counts refused requests by reason, and says so in one line at most once a minute.

    A wrong SLACK_SIGNING_SECRET refuses every request Slack sends, and a scanner or a broken
    client may send thousands: one warning line per interval, with how many were refused and
    why, and never a body or a header (they are not Slack's, or Slack's own would be shown).
    `flush` writes what is pending once the interval is over, so the last of a burst is told too.
    """

    def __init__(
        self, interval: float = REFUSED_LOG_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}
        self._next_line = float("-inf")

    def refused(self, reason: str) -> None:
        """Count one request refused for `reason`, one of REASONS."""
        metrics.REQUESTS.labels(kind="http", outcome=reason).inc()
        with self._lock:
            self._pending[reason] = self._pending.get(reason, 0) + 1
        self.flush()

    def flush(self) -> None:
        with self._lock:
            now = self._clock()
            if not self._pending or now < self._next_line:
                return
            counts, self._pending = self._pending, {}
            self._next_line = now + self._interval
        total = sum(counts.values())
        details = ", ".join(f"{count} {REASONS[reason]}" for reason, count in counts.items())
        hint = ""
        if "bad_signature" in counts:
            hint = "; if Slack's own requests are refused, check SLACK_SIGNING_SECRET"
        log.warning(
            "Refused %d request(s): %s (at most one such line every %d s)%s",
            total,
            details,
            self._interval,
            hint,
            extra={"refused": total, "refused_by_reason": counts},
        )


REFUSED = RefusedRequests()


# --- reading a request --------------------------------------------------------------------


class RefusedError(Exception):
    """The request cannot be served: answer `status` with `text`, count `reason`, close."""

    def __init__(self, status: str, reason: str, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.reason = reason
        self.text = text


@dataclass
class Head:
    """A request line and its headers, parsed and checked."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    content_length: int
    keep_alive: bool
    expects_continue: bool


def parse_head(raw: bytes) -> Head:
    """The request line and headers (without the blank line that ends them), or a RefusedError."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if (
        len(parts) != len(("GET", "/path", "HTTP/1.1"))
        or not TOKEN.fullmatch(parts[0])
        or not parts[1].startswith("/")
    ):
        raise RefusedError("400 Bad Request", "malformed", "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise RefusedError("505 HTTP Version Not Supported", "malformed", "HTTP/1.1 only")
    if len(lines) - 1 > MAX_HEADER_FIELDS:
        raise RefusedError("431 Request Header Fields Too Large", "malformed", "too many headers")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not TOKEN.fullmatch(name):
            raise RefusedError("400 Bad Request", "malformed", "malformed header")
        headers.append((name.lower(), value.strip(" \t")))
    fields = dict(headers)
    if "transfer-encoding" in fields:
        raise RefusedError(
            "411 Length Required", "malformed", "send the body with a Content-Length"
        )
    lengths = {value for name, value in headers if name == "content-length"}
    if len(lengths) > 1 or not all(
        value.isdigit() and len(value) <= MAX_LENGTH_DIGITS for value in lengths
    ):
        raise RefusedError("400 Bad Request", "malformed", "bad Content-Length")
    connection = {token.strip().lower() for token in fields.get("connection", "").split(",")}
    keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
    return Head(
        method=method,
        target=target,
        version=version,
        headers=headers,
        content_length=int(lengths.pop()) if lengths else 0,
        keep_alive=keep_alive,
        expects_continue=fields.get("expect", "").lower() == "100-continue",
    )


def wsgi_environ(head: Head, body: bytes, peer: Any, local: Any) -> WSGIEnvironment:
    """The PEP 3333 environ for a complete request."""
    path, _, query = head.target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": head.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": head.version,
        "SERVER_NAME": str(local[0]) if isinstance(local, tuple) else "localhost",
        "SERVER_PORT": str(local[1]) if isinstance(local, tuple) else "",
        "REMOTE_ADDR": str(peer[0]) if isinstance(peer, tuple) else "",
        "REMOTE_PORT": str(peer[1]) if isinstance(peer, tuple) else "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in head.headers:
        if "_" in name:  # Foo_Bar would pass for Foo-Bar in the environ: dropped, as gunicorn does
            continue
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name != "content-length":
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


@dataclass
class Response:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def call_wsgi(app: WSGIApplication, environ: WSGIEnvironment) -> Response:
    """Run the WSGI app to the end; the whole response. An exception becomes a plain 500."""
    started: list[Response] = []
    chunks: list[bytes] = []

    def start_response(
        status: str,
        headers: list[tuple[str, str]],
        exc_info: tuple[type[BaseException], BaseException, TracebackType] | None = None,
    ) -> Callable[[bytes], object]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [Response(status, list(headers), b"")]
        return chunks.append

    try:
        # The environ is a plain dict of str; WSGIEnvironment names the same thing more loosely.
        result = app(environ, start_response)  # type: ignore[arg-type]  # see the line above
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception as error:  # the last line of defence: no stack trace to the client
        log.error(
            "Request failed: %s", type(error).__name__, exc_info=log.isEnabledFor(logging.DEBUG)
        )
        return plain("500 Internal Server Error", "internal error")
    if not started:
        return plain("500 Internal Server Error", "internal error")
    response = started[0]
    response.body = b"".join(chunks)
    return response


def plain(status: str, text: str) -> Response:
    return Response(status, [("Content-Type", "text/plain; charset=utf-8")], f"{text}\n".encode())


HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


def serialize(response: Response, *, keep_alive: bool, head_only: bool) -> bytes:
    lines = [f"HTTP/1.1 {response.status}"]
    lines += [
        f"{name}: {value}" for name, value in response.headers if name.lower() not in HOP_BY_HOP
    ]
    lines.append(f"Content-Length: {len(response.body)}")
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + response.body


# --- one connection -----------------------------------------------------------------------


@dataclass
class Limits:
    max_body: int = MAX_BODY_BYTES
    read_seconds: float = READ_SECONDS
    idle_seconds: float = IDLE_SECONDS
    write_seconds: float = WRITE_SECONDS
    max_connections: int = MAX_CONNECTIONS


class Connection(asyncio.Protocol):
    """One client connection: waiting (idle or mid-request), or busy with a complete request."""

    def __init__(self, front: HttpFront) -> None:
        self.front = front
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.head: Head | None = None
        self.busy = False
        self.closed = False
        self._timer: asyncio.TimerHandle | None = None

    # asyncio's callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.front.admit(self)
        self._await_request()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        if not self.buffer and self.head is None and not self.busy:
            data = data.lstrip(b"\r\n")  # a stray blank line between requests is allowed
            if not data:
                return
            self._arm(self.front.limits.read_seconds, self._too_slow)
        self.buffer += data
        if not self.busy:
            self._advance()
        elif len(self.buffer) > MAX_HEAD_BYTES + self.front.limits.max_body:
            assert self.transport is not None
            self.transport.pause_reading()  # requests sent ahead wait their turn

    def eof_received(self) -> bool:
        # A client may half-close after its request: keep the socket open to answer it.
        return self.busy

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._disarm()
        self.front.forget(self)

    # reading

    def _await_request(self) -> None:
        """Wait for the first byte of the next request, at most the idle time."""
        self.head = None
        self.front.waiting(self)
        if self.transport is not None and not self.transport.is_reading():
            self.transport.resume_reading()
        self._arm(self.front.limits.idle_seconds, self.close)
        if self.buffer:
            self._arm(self.front.limits.read_seconds, self._too_slow)
            self._advance()

    def _advance(self) -> None:
        try:
            if self.head is None and not self._read_head():
                return
            assert self.head is not None
            if len(self.buffer) < self.head.content_length:
                return
        except RefusedError as refusal:
            self.refuse(refusal)
            return
        body = bytes(self.buffer[: self.head.content_length])
        del self.buffer[: self.head.content_length]
        self._disarm()
        self.busy = True
        self.front.started(self)
        self.front.dispatch(self, self.head, body)

    def _read_head(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n", 0, MAX_HEAD_BYTES + 4)
        if end < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                raise RefusedError(
                    "431 Request Header Fields Too Large", "malformed", "headers too big"
                )
            return False
        head = parse_head(bytes(self.buffer[:end]))
        del self.buffer[: end + 4]
        if head.content_length > self.front.limits.max_body:
            raise RefusedError("413 Content Too Large", "too_large", "request body too large")
        self.head = head
        if head.expects_continue and len(self.buffer) < head.content_length:
            self._write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def _too_slow(self) -> None:
        self.refuse(RefusedError("408 Request Timeout", "slow", "request not received in time"))

    # answering

    def refuse(self, refusal: RefusedError) -> None:
        self.front.refused.refused(refusal.reason)
        self.respond(plain(refusal.status, refusal.text), keep_alive=False, head_only=False)

    def respond(self, response: Response, *, keep_alive: bool, head_only: bool) -> None:
        if self.closed:
            return
        keep_alive = keep_alive and not self.front.stopping
        self._write(serialize(response, keep_alive=keep_alive, head_only=head_only))
        self.busy = False
        if keep_alive:
            self._await_request()
        else:
            self.close()

    def _write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)
        if self.transport.get_write_buffer_size():
            # The client does not read what it asked for: given WRITE_SECONDS, then dropped.
            asyncio.get_running_loop().call_later(
                self.front.limits.write_seconds, self._drop_if_unread
            )

    def _drop_if_unread(self) -> None:
        if self.transport is not None and self.transport.get_write_buffer_size():
            self.transport.abort()

    def close(self) -> None:
        """Close once what was written is sent."""
        self._disarm()
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()

    def abort(self) -> None:
        self._disarm()
        if self.transport is not None:
            self.closed = True
            self.transport.abort()

    # timers

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self._disarm()
        spread = seconds * (1 - random.uniform(0, DEADLINE_SPREAD))
        self._timer = asyncio.get_running_loop().call_later(spread, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


# --- the server of one worker process -----------------------------------------------------


@dataclass
class HttpFront:
    """Reads requests on the event loop and runs the WSGI app on `threads` threads."""

    app: WSGIApplication
    threads: int = 8
    limits: Limits = field(default_factory=Limits)
    refused: RefusedRequests = field(default_factory=lambda: REFUSED)
    stopping: bool = False

    def __post_init__(self) -> None:
        self.executor = ThreadPoolExecutor(self.threads, thread_name_prefix="errdesk-http")
        self.connections: set[Connection] = set()
        # Connections without a complete request, the longest waiting first.
        self._waiting: dict[Connection, None] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def protocol(self) -> Connection:
        return Connection(self)

    def admit(self, connection: Connection) -> None:
        """Take a new connection; when crowded, the one that has waited longest makes room."""
        if len(self.connections) >= self.limits.max_connections and self._waiting:
            oldest = next(iter(self._waiting))
            self.forget(oldest)
            oldest.abort()
            self.refused.refused("slow")
        self.connections.add(connection)
        if self.stopping:
            connection.close()

    def waiting(self, connection: Connection) -> None:
        self._waiting.pop(connection, None)
        self._waiting[connection] = None

    def started(self, connection: Connection) -> None:
        self._waiting.pop(connection, None)

    def forget(self, connection: Connection) -> None:
        self.connections.discard(connection)
        self._waiting.pop(connection, None)

    def dispatch(self, connection: Connection, head: Head, body: bytes) -> None:
        assert connection.transport is not None
        environ = wsgi_environ(
            head,
            body,
            connection.transport.get_extra_info("peername"),
            connection.transport.get_extra_info("sockname"),
        )
        task = asyncio.get_running_loop().create_task(self._answer(connection, head, environ))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, connection: Connection, head: Head, environ: WSGIEnvironment) -> None:
        if environ["PATH_INFO"] in INLINE_PATHS:
            response = call_wsgi(self.app, environ)
        else:
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(self.executor, call_wsgi, self.app, environ)
        connection.respond(response, keep_alive=head.keep_alive, head_only=head.method == "HEAD")

    async def stop(self, grace: float) -> None:
        """No new requests; those in flight are answered (within `grace` seconds), then close."""
        self.stopping = True
        for connection in list(self._waiting):
            if not connection.buffer:
                connection.close()
        deadline = time.monotonic() + grace
        while (self._tasks or self._waiting) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for connection in list(self.connections):
            connection.abort()
        self.executor.shutdown(wait=False)


def raise_open_files_limit() -> int:
    """Lift the soft limit on open files to the hard one: each held connection takes one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    return soft


class FrontWorker(Worker):  # type: ignore[misc]  # gunicorn is untyped: Worker is Any
    """A gunicorn worker that serves its listening sockets with `HttpFront`."""

    def run(self) -> None:
        open_files = raise_open_files_limit()
        self.limits = Limits(
            idle_seconds=float(self.cfg.keepalive) or IDLE_SECONDS,
            max_connections=max(16, min(self.cfg.worker_connections, open_files - 64)),
        )
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        front = HttpFront(self.wsgi, threads=self.cfg.threads, limits=self.limits)
        servers = [
            await loop.create_server(front.protocol, sock=listener.sock, backlog=self.cfg.backlog)
            for listener in self.sockets
        ]
        while self.alive and self.ppid == os.getppid():
            self.notify()
            front.refused.flush()
            await asyncio.sleep(HEARTBEAT_SECONDS)
        for server in servers:
            server.close()
        await front.stop(self.cfg.graceful_timeout)
        front.refused.flush()
