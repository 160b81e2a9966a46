"""`errdesk serve` as a real subprocess in HTTP mode, and signed Slack events to send it.

Each process gets a free port and writes its logs to a file, which tests read and which is
printed when a process fails to start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from slack_sdk.signature import SignatureVerifier

from tests.fake_slack import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack
from tests.redis_process import free_port

SIGNING_SECRET = "e2e-signing-secret"
REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 20.0
STOP_SECONDS = 10.0


class Served:
    """One `errdesk serve` process on 127.0.0.1."""

    def __init__(self, fake: FakeSlack, log_path: Path, redis_url: str | None) -> None:
        self.port = free_port()
        self.log_path = log_path
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("SLACK_", "ERRDESK_", "PROMETHEUS_"))
            and name not in ("REDIS_URL", "PORT", "WEB_CONCURRENCY")
        }
        env |= {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "PORT": str(self.port),
            "ERRDESK_THREADS": "4",
            "ERRDESK_LOG_FORMAT": "json",
        }
        if redis_url:
            env["REDIS_URL"] = redis_url
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wait_until(self, path: str, status: int, timeout: float = START_SECONDS) -> str:
        """Poll `path` until it answers `status`; the body. Fails with the process's log."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"errdesk serve exited {self.process.returncode}:\n{self.log}")
            try:
                answered, body = self.get(path)
            except OSError:
                answered, body = 0, ""
            if answered == status:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{path} answered {answered}, not {status}, within {timeout} s:\n{self.log}"
                )
            time.sleep(0.1)

    def metric(self, line_prefix: str) -> float:
        """The value of the first /metrics sample line starting with `line_prefix`, else 0."""
        _, text = self.get("/metrics")
        for line in text.splitlines():
            if line.startswith(line_prefix):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def send(self, payload: dict[str, Any], retry_num: int | None = None) -> int:
        """POST `payload` to /slack/events, signed as Slack signs it; the HTTP status."""
        body = json.dumps(payload)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(
                timestamp=timestamp, body=body
            ),
        }
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        request = urllib.request.Request(
            self.url + "/slack/events", data=body.encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as reply:
            return int(reply.status)

    @property
    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_SECONDS)
        self._log.close()


def mention(text: str, channel: str = "C0E2E0001") -> dict[str, Any]:
    """An app_mention event_callback with a fresh event_id and message ts."""
    ts = f"{time.time():.6f}"
    return {
        "token": "unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0000001",
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": "U0HUMAN01",
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        },
    }


def posts_in_thread(fake: FakeSlack, payload: dict[str, Any]) -> list[Any]:
    """The chat.postMessage calls that answered `payload`'s message."""
    ts = payload["event"]["ts"]
    return [call for call in fake.posts() if call.body.get("thread_ts") == ts]
