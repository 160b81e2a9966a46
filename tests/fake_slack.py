"""A fake Slack on 127.0.0.1: the Web API, file downloads, response_urls and Socket Mode.

It records every request (path, parsed body, headers) so tests assert on what the bot sent, and
it can be told to fail a method once: with 429 and Retry-After, with a 5xx, or with a Slack
error such as channel_not_found. Tests poll the record with `wait_for` and a deadline, never
with fixed sleeps.

It keeps what was posted as Slack does, so the bot can read it back: conversations.replies
and conversations.history return the posted messages, with their message metadata only when
asked with include_all_metadata (as Slack does). Like Slack it can pace chat.postMessage per
channel (about one message a second, short bursts allowed; beyond that 429 with Retry-After in
whole seconds), hold one channel rate-limited for a while, and lose a response on the way
back after the post was made (the connection closes before the answer is sent).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0000001"
BOT_TOKEN = "xoxb-0000-1111-fake"
APP_TOKEN = "xapp-1-A0000001-2222-fake"
SIGNING_SECRET = "test-signing-secret"


@dataclass
class Call:
    """One request the fake received."""

    method: str  # "chat.postMessage", "files/F1" (a download), "respond/abc" (a response_url)
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    ok: bool = True  # False when the fake answered with an error (HTTP or ok=false)
    at: float = field(default_factory=time.monotonic)
    dropped: bool = False  # processed, but the connection closed before the answer was sent

    @property
    def text(self) -> str:
        """The message text and every block text, joined: what a reader would see."""
        parts = [str(self.body.get("text") or "")]
        parts += texts(self.body.get("blocks") or [])
        return "\n".join(parts)


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Pace:
    """Slack's pacing of chat.postMessage in one channel: a bucket of `burst` posts that
    refills at `per_second`; a post that finds it empty gets 429 and Retry-After."""

    per_second: float
    burst: int
    tokens: dict[str, tuple[float, float]] = field(default_factory=dict)  # channel: (left, at)

    def refused_for(self, channel: str, now: float) -> float:
        """0 when a post to `channel` may go now (and takes its place), else seconds to wait."""
        left, at = self.tokens.get(channel, (float(self.burst), now))
        left = min(float(self.burst), left + (now - at) * self.per_second)
        if left >= 1.0:
            self.tokens[channel] = (left - 1.0, now)
            return 0.0
        self.tokens[channel] = (left, now)
        return (1.0 - left) / self.per_second


class FakeSlack:
    """Start with `FakeSlack()`, point SLACK_API_URL at `api_url`, stop with `close()`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.acks: list[dict[str, Any]] = []
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel: what was posted there
        self._failures: dict[str, list[Failure]] = {}
        self._drops: dict[str, int] = {}
        self._pace: Pace | None = None
        self._limited_until: dict[str, float] = {}
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._sockets: list[ServerConnection] = []

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

        self._ws: Server = serve(self._websocket, "127.0.0.1", 0)
        self.ws_port = self._ws.socket.getsockname()[1]
        threading.Thread(target=self._ws.serve_forever, daemon=True).start()

    # --- what tests configure -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/respond/{name}"

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail: an HTTP status, or ok=false + error.

        `method` is a Web API method ("chat.postMessage") or a response_url ("respond/name").
        """
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"ok": False, "error": error or ("ratelimited" if status == 429 else "fatal")}
        with self._lock:
            self._failures.setdefault(method, []).extend(
                Failure(status, body, headers) for _ in range(times)
            )

    def pace_posts(self, per_second: float = 1.0, burst: int = 3) -> None:
        """Pace chat.postMessage per channel as Slack does: `burst` posts at once, then
        `per_second`; a post beyond that is refused with 429 and Retry-After (whole seconds)."""
        with self._lock:
            self._pace = Pace(per_second, burst)

    def rate_limit(self, channel: str, seconds: float) -> None:
        """Refuse every chat.postMessage to `channel` with 429 for `seconds`; Retry-After
        says how long is left."""
        with self._lock:
            self._limited_until[channel] = time.monotonic() + seconds

    def limited(self, channel: str) -> bool:
        """Whether `channel` is still held by `rate_limit`."""
        with self._lock:
            return self._limited_until.get(channel, 0.0) > time.monotonic()

    def drop_responses(self, method: str, times: int = 1) -> None:
        """Do the next `times` calls of `method`, then close the connection unanswered."""
        with self._lock:
            self._drops[method] = self._drops.get(method, 0) + times

    def add_file(self, file_id: str, content: bytes, **info: Any) -> dict[str, Any]:
        """A file files.info describes and url_private serves (to the bot token only)."""
        described = {
            "id": file_id,
            "name": f"{file_id}.log",
            "mimetype": "text/plain",
            "filetype": "text",
            "size": len(content),
            "url_private": f"{self.base_url}/files/{file_id}",
            **info,
        }
        self.files[file_id] = (described, content)
        return described

    def add_thread(self, channel: str, thread_ts: str, messages: list[dict[str, Any]]) -> None:
        self.threads[(channel, thread_ts)] = messages

    # --- what tests read ------------------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def posts(self) -> list[Call]:
        return self.calls_to("chat.postMessage")

    def thread_posts(self, ts: str) -> list[Call]:
        """The posts in the thread of the message at `ts`: the bot's replies to it."""
        return [call for call in self.posts() if call.body.get("thread_ts") == ts]

    def responses(self, *, ok_only: bool = False) -> list[Call]:
        """What was sent to response_urls, in order (also the attempts that were refused)."""
        with self._lock:
            return [
                c for c in self.calls if c.method.startswith("respond/") and (c.ok or not ok_only)
            ]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll `predicate` until it returns something truthy; fail the test at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"fake Slack: condition not met within {timeout} s")
            with self._lock:
                self._lock.wait(0.05)

    def settle(self, seconds: float = 0.5) -> None:
        """Give the bot time to do something it should not; used before asserting silence."""
        time.sleep(seconds)

    # --- Socket Mode ----------------------------------------------------------------------

    def send_envelope(self, envelope: dict[str, Any], timeout: float = 10.0) -> None:
        """Send an envelope on the newest Socket Mode connection (waits for one to exist)."""
        connection = self.wait_for(lambda: self._sockets[-1] if self._sockets else None, timeout)
        connection.send(json.dumps(envelope))

    def ack_for(self, envelope_id: str) -> dict[str, Any] | None:
        with self._lock:
            return next((a for a in self.acks if a.get("envelope_id") == envelope_id), None)

    def _websocket(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "connection_info": {"app_id": "A0000001"},
                    "debug_info": {"host": "fake-slack"},
                }
            )
        )
        with self._lock:
            self._sockets.append(connection)
            self._lock.notify_all()
        try:
            for message in connection:
                data = json.loads(message)
                with self._lock:
                    self.acks.append(data)
                    self._lock.notify_all()
        except (ConnectionClosed, ValueError):
            pass
        finally:
            with self._lock:
                if connection in self._sockets:
                    self._sockets.remove(connection)

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._ws.shutdown()

    # --- the Web API ----------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()

    def _failure_for(self, method: str, body: dict[str, Any]) -> Failure | None:
        with self._lock:
            pending = self._failures.get(method)
            if pending:
                return pending.pop(0)
            if method != "chat.postMessage":
                return None
            wait = self._rate_limited_for(str(body.get("channel") or ""), time.monotonic())
        if wait <= 0:
            return None
        retry_after = str(max(1, math.ceil(wait)))
        return Failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry_after})

    def _rate_limited_for(self, channel: str, now: float) -> float:
        """Seconds `channel` must wait before its next post (0: it may post); under the lock."""
        held = self._limited_until.get(channel, 0.0) - now
        if held > 0:
            return held
        return self._pace.refused_for(channel, now) if self._pace else 0.0

    def _drop_for(self, method: str) -> bool:
        with self._lock:
            left = self._drops.get(method, 0)
            if left:
                self._drops[method] = left - 1
            return left > 0

    def _api(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "errdesk",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            return {"ok": True, "channel": body.get("channel"), **self._store_post(body)}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "conversations.replies":
            return self._replies(body)
        if method == "conversations.history":
            return self._history(body)
        if method == "files.info":
            found = self.files.get(str(body.get("file")))
            return (
                {"ok": True, "file": found[0]}
                if found
                else {"ok": False, "error": "file_not_found"}
            )
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.ws_port}/link/?ticket=fake"}
        return {"ok": False, "error": "unknown_method"}

    def _store_post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Keep a posted message as Slack would show it; its ts and the message."""
        ts = f"{1700000000 + next(self._ts)}.000100"
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": body.get("text") or "",
            "ts": ts,
        }
        for name in ("thread_ts", "blocks", "metadata"):
            if body.get(name):
                message[name] = _json_field(body[name])
        with self._lock:
            self.messages.setdefault(str(body.get("channel") or ""), []).append(message)
        return {"ts": ts, "message": message}

    def _replies(self, body: dict[str, Any]) -> dict[str, Any]:
        """A thread as Slack returns it: its first message, then the replies, oldest first."""
        channel, ts = str(body.get("channel")), str(body.get("ts"))
        with self._lock:
            posted = [
                m
                for m in self.messages.get(channel, [])
                if m["ts"] == ts or m.get("thread_ts") == ts
            ]
        found = self.threads.get((channel, ts), []) + posted
        if not found:
            return {"ok": False, "error": "thread_not_found"}
        return _page(found, body)

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        """A channel's own messages (not thread replies), newest first, within oldest..latest."""
        oldest = float(body.get("oldest") or 0)
        latest = float(body.get("latest") or math.inf)
        with self._lock:
            found = [
                m
                for m in self.messages.get(str(body.get("channel")), [])
                if m.get("thread_ts") in (None, m["ts"]) and oldest <= float(m["ts"]) <= latest
            ]
        return _page(found[::-1], body)


def _page(messages: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """The first `limit` messages; metadata only when asked for with include_all_metadata."""
    limit = int(body.get("limit") or 100)
    with_metadata = str(body.get("include_all_metadata")).lower() in ("true", "1")
    shown = [
        m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
        for m in messages[:limit]
    ]
    return {"ok": True, "messages": shown, "has_more": len(messages) > limit}


def _json_field(value: Any) -> Any:
    """A field the client may send as a JSON string inside a form."""
    if isinstance(value, str) and value[:1] in "[{":
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            path = urlparse(self.path).path
            headers = {k.lower(): v for k, v in self.headers.items()}
            if path.startswith("/files/"):
                file_id = path.removeprefix("/files/")
                found = fake.files.get(file_id)
                allowed = headers.get("authorization") == f"Bearer {BOT_TOKEN}"
                status = 200 if found and allowed else (403 if found else 404)
                fake._record(Call(f"files/{file_id}", {}, headers, status, ok=status == 200))
                self._send(status, found[1] if status == 200 and found else b"", "text/plain")
                return
            self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            headers = {k.lower(): v for k, v in self.headers.items()}
            raw = self.rfile.read(int(headers.get("content-length") or 0))
            body = _parse(raw, headers.get("content-type", ""), urlparse(self.path).query)
            if path.startswith("/respond/"):
                method = path.lstrip("/")
            elif path.startswith("/api/"):
                method = path.removeprefix("/api/")
            else:
                self._send(404, b"not found", "text/plain")
                return
            failure = fake._failure_for(method, body)
            if failure is not None:
                fake._record(Call(method, body, headers, failure.status, ok=False))
                payload = json.dumps(failure.body).encode()
                self._send(failure.status, payload, "application/json", failure.headers)
                return
            if method.startswith("respond/"):
                fake._record(Call(method, body, headers))
                self._send(200, b"ok", "text/plain")
                return
            answer = json.dumps(fake._api(method, body)).encode()
            dropped = fake._drop_for(method)
            fake._record(Call(method, body, headers, dropped=dropped))
            if dropped:
                self.close_connection = True  # the answer is lost on the way back
                return
            self._send(200, answer, "application/json")

        def _send(
            self,
            status: int,
            payload: bytes,
            content_type: str,
            extra: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def _parse(raw: bytes, content_type: str, query: str) -> dict[str, Any]:
    if "json" in content_type:
        try:
            parsed = json.loads(raw or b"{}")
        except ValueError:
            return {"_raw": raw.decode(errors="replace")}
        return parsed if isinstance(parsed, dict) else {"_json": parsed}
    body: dict[str, Any] = dict(parse_qsl(query))
    body.update(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
    for name in ("blocks", "attachments"):
        if isinstance(body.get(name), str):
            with contextlib.suppress(ValueError):
                body[name] = json.loads(body[name])
    return body


def texts(node: Any) -> Iterator[str]:
    """Every "text" string in a Block Kit tree: what Slack would show of the blocks."""
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            if not isinstance(value, str):
                yield from texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from texts(item)
