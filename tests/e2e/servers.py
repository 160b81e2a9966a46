"""`errdesk serve` as a real subprocess, and Slack's signed requests to send it.

Each process gets a free port and writes its output to a file, which tests read and which is
shown when a process fails to start, so a failure in CI says why.
"""

from __future__ import annotations

import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.engine.model import SHIPPED_MODEL
from tests.fake_slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.support import free_port

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 30.0
STOP_SECONDS = 15.0
# The reply threshold of the end-to-end servers' model (see eager_model).
EAGER_THRESHOLD = 0.001


# --- Slack's requests, signed and timestamped the way Slack does -----------------------------


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
        timeout: float = 10.0,
    ) -> Reply:
        """POST `body`; the keyword arguments forge what a signature check must refuse.

        No answer within `timeout` seconds raises TimeoutError.
        """
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        sent = {"Content-Type": content_type, **(headers or {})}
        data = body.encode() if isinstance(body, str) else body
        if signed:
            sent["X-Slack-Request-Timestamp"] = stamp
            sent["X-Slack-Signature"] = signature or self.sign(stamp, data)
        request = urllib.request.Request(self.url, data=data, headers=sent, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):  # a timeout while connecting comes wrapped
                raise TimeoutError(f"no answer within {timeout} s") from error
            raise
        return Reply(status, text, time.perf_counter() - started)

    def sign(self, timestamp: str, data: bytes) -> str:
        """Slack's v0 signature; SignatureVerifier's own for text, by hand for raw bytes."""
        try:
            return str(self.verifier.generate_signature(timestamp=timestamp, body=data.decode()))
        except UnicodeDecodeError:
            digest = hmac.new(self.secret.encode(), f"v0:{timestamp}:".encode() + data, "sha256")
            return f"v0={digest.hexdigest()}"

    def event(
        self, body: dict[str, Any], retry_num: int | None = None, timeout: float = 10.0
    ) -> Reply:
        """An Events API request; `retry_num` makes it Slack's retry of an unanswered one."""
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(body), "application/json", headers=headers, timeout=timeout)

    def command(self, form: dict[str, str]) -> Reply:
        """A slash command, form-encoded as Slack sends it."""
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def action(self, payload: dict[str, Any]) -> Reply:
        """A button click or a shortcut: Slack sends the JSON payload inside a form field."""
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")


# --- `errdesk serve` as a subprocess ---------------------------------------------------------


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
        # A store of its own, beside its log, unless the test shares one between processes.
        data = {"ERRDESK_DATA_DIR": str(log_path.with_suffix(".data"))}
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=REPO,
            env={**clean, **data, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        """Everything the process has written so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, str]:
        """GET `path`; the status and body, also for an HTTP error status."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as answer:
                return answer.status, answer.read().decode()
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

    def wait_ready(self, timeout: float = START_SECONDS) -> str:
        """Wait for /readyz to answer 200; its body, which names the state backend."""
        return self.wait_until("/readyz", 200, timeout)

    def metric(self, line_prefix: str) -> float:
        """The value of the first /metrics sample line starting with `line_prefix`, else 0."""
        _, text = self.get("/metrics")
        for line in text.splitlines():
            if line.startswith(line_prefix):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def stop(self, timeout: float = STOP_SECONDS) -> int:
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


class SlowIdentitySlack(FakeSlack):
    """A fake Slack whose auth.test answers only after `delay` seconds (a slow Slack at start)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        super().__init__()

    def _api(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            time.sleep(self.delay)
        return super()._api(method, body)


def eager_model() -> Path:
    """The shipped decision model with a reply threshold near zero: it answers every failure.

    The end-to-end tests exercise the Slack contract (delivery, pacing, secrets, stopping), not
    the judgement of when to speak, which the corpus tests measure; with this model a message
    that shows an error is always answered, whatever the shipped weights make of its wording.
    """
    path = Path(tempfile.gettempdir()) / f"errdesk-eager-model-{os.getpid()}.json"
    if not path.exists():
        data = json.loads(SHIPPED_MODEL.read_text(encoding="utf-8"))
        data["threshold"] = EAGER_THRESHOLD
        path.write_text(json.dumps(data), encoding="utf-8")
    return path


def serve_env(fake: FakeSlack, *, socket_mode: bool = False, **extra: str) -> dict[str, str]:
    """The environment of a server that talks to `fake`, on a port of its own."""
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake.api_url,
        "PORT": str(free_port()),
        "ERRDESK_AUTOREPLY_CHANNELS": "C0HELP001",
        "ERRDESK_THREADS": "4",
        "ERRDESK_MODEL": str(eager_model()),
        **extra,
    }
    if socket_mode:
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    else:
        env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    return env


@contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[ServerProcess]:
    """A server that is ready, and stopped on the way out even when a test fails."""
    with ServerProcess(env, log_path) as process:
        process.wait_ready()
        yield process
