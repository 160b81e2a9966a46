"""A fake Slack on 127.0.0.1: the Web API, file downloads, response_urls and Socket Mode.

It records every request (path, parsed body, headers) so tests assert on what the bot sent, and
it can be told to fail a method once: with 429 and Retry-After, with a 5xx, or with a Slack
error such as channel_not_found. Tests poll the record with `wait_for` and a deadline, never
with fixed sleeps.
"""

from __future__ import annotations

import contextlib
import itertools
import json
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


class FakeSlack:
    """Start with `FakeSlack()`, point SLACK_API_URL at `api_url`, stop with `close()`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.acks: list[dict[str, Any]] = []
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._failures: dict[str, list[Failure]] = {}
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

    def _failure_for(self, method: str) -> Failure | None:
        with self._lock:
            pending = self._failures.get(method)
            return pending.pop(0) if pending else None

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
            ts = f"{1700000000 + next(self._ts)}.000100"
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": body}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "conversations.replies":
            key = (str(body.get("channel")), str(body.get("ts")))
            if key not in self.threads:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": self.threads[key], "has_more": False}
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
            failure = fake._failure_for(method)
            if failure is not None:
                fake._record(Call(method, body, headers, failure.status, ok=False))
                payload = json.dumps(failure.body).encode()
                self._send(failure.status, payload, "application/json", failure.headers)
                return
            fake._record(Call(method, body, headers))
            if method.startswith("respond/"):
                self._send(200, b"ok", "text/plain")
                return
            self._send(200, json.dumps(fake._api(method, body)).encode(), "application/json")

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
