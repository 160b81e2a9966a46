"""Fixtures for the Slack side: the fake Slack, signed requests, the app and a running server."""

from __future__ import annotations

import hmac
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltContext
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web import WebClient

from bot.config import Settings, load_settings
from bot.engine import Engine
from bot.listeners.services import CONTEXT_KEY, Services
from bot.state import MemoryStore
from tests.fake_slack import APP_TOKEN, BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack
from tests.support import engine as bundled_engine

REPO = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "test-signing-secret"
HUMAN = "U0HUMAN01"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def engine() -> Engine:
    return bundled_engine()


def make_settings(fake: FakeSlack, **env: str) -> Settings:
    return load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "ERRDESK_AUTOREPLY_CHANNELS": "C0HELP001",
            **env,
        }
    )


@dataclass
class Bot:
    """The listeners' world in a unit test: services, a real WebClient on the fake, a context."""

    fake: FakeSlack
    services: Services
    client: WebClient
    context: BoltContext
    responses: list[dict[str, Any]] = field(default_factory=list)
    acks: list[tuple[Any, ...]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)

    def ack(self, *args: Any, **kwargs: Any) -> None:
        self.order.append("ack")
        self.acks.append(args)

    def respond(self, **message: Any) -> Any:
        self.order.append("respond")
        self.responses.append(message)
        return type("Sent", (), {"status_code": 200})()

    def act(self, listener: Callable[..., None], body: dict[str, Any]) -> None:
        """Call an action listener with the keyword arguments Bolt gives it for `body`."""
        listener(
            ack=self.ack,
            body=body,
            action=body["actions"][0],
            client=self.client,
            respond=self.respond,
            context=self.context,
        )


@pytest.fixture
def bot(fake_slack: FakeSlack, engine: Engine) -> Bot:
    settings = make_settings(fake_slack)
    services = Services(settings=settings, engine=engine, store=MemoryStore())
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    context = BoltContext({CONTEXT_KEY: services, "bot_user_id": BOT_USER_ID})
    return Bot(fake_slack, services, client, context)


# --- Slack's requests, built and signed the way Slack does ----------------------------------


def event_body(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """An Events API `event_callback` around `event`."""
    return {
        "token": "unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0000001",
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": event,
    }


def new_ts() -> str:
    """A message timestamp no other test uses."""
    return f"{time.time():.6f}{uuid.uuid4().int % 1000:03d}"


def message_event(text: str, channel: str = "C0HELP001", **fields: Any) -> dict[str, Any]:
    ts = new_ts()
    return {
        "type": "message",
        "channel": channel,
        "user": HUMAN,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
        **fields,
    }


def mention_event(text: str, channel: str = "C0OTHER01", **fields: Any) -> dict[str, Any]:
    event = message_event(f"<@{BOT_USER_ID}> {text}", channel, **fields)
    event["type"] = "app_mention"
    event.pop("channel_type")
    return event


def command_form(text: str, response_url: str, channel: str = "C0OTHER01") -> dict[str, str]:
    return {
        "token": "unused",
        "team_id": TEAM_ID,
        "channel_id": channel,
        "channel_name": "helpdesk",
        "user_id": HUMAN,
        "user_name": "someone",
        "command": "/errcode",
        "text": text,
        "api_app_id": "A0000001",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def action_payload(
    action_id: str,
    value: str,
    response_url: str,
    *,
    channel: str = "C0OTHER01",
    message: dict[str, Any] | None = None,
    ephemeral: bool = False,
) -> dict[str, Any]:
    ts = (message or {}).get("ts") or new_ts()
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": HUMAN},
        "api_app_id": "A0000001",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "channel": {"id": channel},
        "response_url": response_url,
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "errdesk_feedback",
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }
    if message is not None:
        payload["message"] = message
    return payload


@dataclass
class Reply:
    status: int
    body: str
    seconds: float


class SlackSender:
    """Sends requests to a running errdesk exactly as Slack would: signed, timestamped."""

    def __init__(self, url: str, secret: str = SIGNING_SECRET) -> None:
        self.url = url.rstrip("/") + "/slack/events"
        self.secret = secret
        self.verifier = SignatureVerifier(secret)

    def post(
        self,
        body: str | bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
    ) -> Reply:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        sent = {"Content-Type": content_type, **(headers or {})}
        data = body.encode() if isinstance(body, str) else body
        if signed:
            sent["X-Slack-Request-Timestamp"] = stamp
            sent["X-Slack-Signature"] = signature or self.sign(stamp, data)
        request = urllib.request.Request(self.url, data=data, headers=sent, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        return Reply(status, text, time.perf_counter() - started)

    def sign(self, timestamp: str, data: bytes) -> str:
        """Slack's v0 signature; SignatureVerifier's own for text, by hand for raw bytes."""
        try:
            return str(self.verifier.generate_signature(timestamp=timestamp, body=data.decode()))
        except UnicodeDecodeError:
            digest = hmac.new(self.secret.encode(), f"v0:{timestamp}:".encode() + data, "sha256")
            return f"v0={digest.hexdigest()}"

    def event(self, body: dict[str, Any], retry_num: int | None = None) -> Reply:
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(body), "application/json", headers=headers)

    def command(self, form: dict[str, str]) -> Reply:
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def action(self, payload: dict[str, Any]) -> Reply:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")


# --- `errdesk serve` as a subprocess ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """`python -m bot serve` (the `errdesk serve` entry point) with its output in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = int(env["PORT"])
        self.log_path = log_path
        clean = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("SLACK_", "ERRDESK_", "PROMETHEUS_"))
            and name not in ("REDIS_URL", "PORT", "WEB_CONCURRENCY")
        }
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=REPO,
            env={**clean, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"errdesk serve exited {self.process.returncode}:\n{self.log}")
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"errdesk serve not ready within {timeout} s:\n{self.log}")
            time.sleep(0.1)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait; killed only if it does not stop in time. The exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self._log.close()
        return int(self.process.returncode)


def serve_env(fake: FakeSlack, *, socket_mode: bool = False, **extra: str) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake.api_url,
        "PORT": str(free_port()),
        "ERRDESK_AUTOREPLY_CHANNELS": "C0HELP001",
        "ERRDESK_THREADS": "4",
        **extra,
    }
    if socket_mode:
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    return env
