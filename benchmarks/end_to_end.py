"""End to end: signed Slack events over HTTP to the real `errdesk serve`, at a fixed rate.

The load is open-loop: event i is due at start + i / rate whatever happened to earlier ones,
and every latency is counted from when the event was due, so a server that falls behind shows
it (no coordinated omission). A pool of keep-alive connections sends the events, as Slack keeps
a few connections open. Each event is a channel message with a real error in it, in a channel
where errdesk replies unasked, so errdesk does its whole job: verify, acknowledge, recognize,
render and post the reply to the fake Slack Web API, where its arrival time is recorded.

The same load goes to a minimal Bolt app that only acknowledges, served the same way
(`benchmarks.minimal_app`), in the same run: both servers are up at once and the load
alternates between them in rounds, so the ratio of the two is what errdesk adds and not a
change in the machine's load. Everything stays on 127.0.0.1 and is bounded in count and time.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import math
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk.signature import SignatureVerifier

from benchmarks.common import (
    REPO,
    SKIP,
    Row,
    duration,
    judged,
    percentile,
    ratio,
    safe_ratio,
)
from benchmarks.recognition import CHAT_LINES

PART = "end to end"
SLACK_PATH = "/slack/events"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
CHANNEL = "C0BENCH01"
USER = "U0BENCH01"
TEAM = "T0000001"

EVENTS = 2_000
RATE = 200.0
QUICK_EVENTS = 40
QUICK_RATE = 100.0
WARMUP_EVENTS = 20
ROUNDS = 4
CONNECTIONS = 16
# Hard bounds, whatever the flags say.
MAX_EVENTS = 20_000
MAX_RATE = 1_000.0
MAX_LOAD_SECONDS = 120.0
START_SECONDS = 30.0
DRAIN_SECONDS = 15.0
STOP_SECONDS = 25.0
REQUEST_TIMEOUT = 10.0

ACK_P99_TARGET = 0.050
BASELINE_FACTOR = 1.5
UNPACED = {"ERRDESK_POST_RATE": "1000"}

# A burst in one channel against Slack's pacing of chat.postMessage (about one post a second
# per channel after a short burst; beyond, 429 with Retry-After), errdesk at its default pace.
BURST_MESSAGES = 30
QUICK_BURST_MESSAGES = 10
SLACK_POSTS_PER_SECOND = 1.0
QUICK_POSTS_PER_SECOND = 5.0
SLACK_BURST = 3

# A few pasted log excerpts beside the one-line errors: what a helpdesk channel receives.
LOG_EXCERPTS = (
    "Status:\tConnecting to 203.0.113.24:21...\nStatus:\tConnection established, waiting for "
    "welcome message...\nResponse:\t220 ProFTPD Server\nCommand:\tUSER deploy\nResponse:\t331 "
    "Password required for deploy\nCommand:\tPASS ********\nResponse:\t530 Login incorrect.\n"
    "Error:\tCritical error: Could not connect to server",
    "Command:\tPASV\nResponse:\t227 Entering Passive Mode (10,0,0,5,195,80).\nCommand:\tMLSD\n"
    "Error:\tConnection timed out after 20 seconds of inactivity\nError:\tFailed to retrieve "
    "directory listing",
    "why does this keep happening?\n```\nTraceback (most recent call last):\n  File "
    '"sync.py", line 41, in <module>\n    ftp.storbinary(f"STOR {name}", handle)\n'
    "ftplib.error_perm: 553 Could not create file.\n```",
    "> PUT /remote.php/dav/files/deploy/backup.zip HTTP/1.1\n< HTTP/1.1 413 Request Entity "
    "Too Large\n< Server: nginx\nupload aborted",
)


@dataclass
class Sample:
    due: float
    started: float = math.nan
    acked: float = math.nan
    status: int = 0
    error: str = ""


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    reconnects: int = 0
    active_seconds: float = 0.0  # from the first event due to the last acknowledgement
    cpu_seconds: float = 0.0
    reply_delays: list[float] = field(default_factory=list)  # due -> reply at the fake

    def add(self, other: LoadResult) -> None:
        self.samples += other.samples
        self.reconnects += other.reconnects
        self.active_seconds += other.active_seconds
        self.cpu_seconds += other.cpu_seconds
        self.reply_delays += other.reply_delays

    @property
    def acked(self) -> list[Sample]:
        return [s for s in self.samples if s.status == 200]

    def ack_latencies(self) -> list[float]:
        return [s.acked - s.due for s in self.acked]

    @property
    def failures(self) -> int:
        return sum(1 for s in self.samples if s.status != 200)

    @property
    def events_per_second(self) -> float:
        return len(self.acked) / self.active_seconds if self.active_seconds > 0 else 0.0


# --- the events -----------------------------------------------------------------------------


def event_texts() -> list[str]:
    """Error messages errdesk replies to unasked (checked here, so each event expects a reply)."""
    from bot.engine import Engine, load_knowledge

    engine = Engine(load_knowledge())
    candidates = [text for text, is_error in CHAT_LINES if is_error] + list(LOG_EXCERPTS)
    return [text for text in candidates if engine.explain(text).reply]


def message_event(index: int, text: str, run: str) -> tuple[str, dict[str, Any]]:
    """An event_callback for a channel message; its ts is unique, so its reply can be matched."""
    ts = f"{1_700_000_000 + index}.{run}"
    return ts, {
        "token": "unused",
        "team_id": TEAM,
        "api_app_id": "A0000001",
        "type": "event_callback",
        "event_id": f"Ev{run}{index:07d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT0001", "is_bot": True}],
        "event": {
            "type": "message",
            "channel": CHANNEL,
            "channel_type": "channel",
            "user": USER,
            "text": text,
            "ts": ts,
            "event_ts": ts,
        },
    }


def signed_requests(
    texts: Sequence[str], count: int, run: str
) -> tuple[list[str], list[bytes], list[dict[str, str]]]:
    """Bodies and headers signed up front, so the load generator only sends."""
    verifier = SignatureVerifier(SIGNING_SECRET)
    timestamp = str(int(time.time()))
    stamps, bodies, headers = [], [], []
    for index in range(count):
        ts, payload = message_event(index, texts[index % len(texts)], run)
        body = json.dumps(payload)
        stamps.append(ts)
        bodies.append(body.encode())
        headers.append(
            {
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body),
            }
        )
    return stamps, bodies, headers


# --- the load generator -----------------------------------------------------------------------


def drive(
    port: int,
    bodies: Sequence[bytes],
    headers: Sequence[dict[str, str]],
    rate: float,
    connections: int = CONNECTIONS,
) -> LoadResult:
    """Send every body at its due time over a pool of keep-alive connections; wait for all."""
    sender = _Sender(port, bodies, headers)
    threads = [threading.Thread(target=sender.work, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    first_due = time.monotonic() + 0.05
    for index in range(len(bodies)):
        due = first_due + index / rate
        sender.samples[index].due = due
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sender.jobs.put(index)
    for _ in threads:
        sender.jobs.put(None)
    deadline = time.monotonic() + REQUEST_TIMEOUT * 2
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    samples = sender.samples
    last = max((s.acked for s in samples if not math.isnan(s.acked)), default=first_due)
    return LoadResult(samples, sender.reconnects, last - first_due)


class _Sender:
    """What each sending thread runs: take the next due event, post it, record the answer."""

    def __init__(
        self, port: int, bodies: Sequence[bytes], headers: Sequence[dict[str, str]]
    ) -> None:
        self.port = port
        self.bodies = bodies
        self.headers = headers
        self.samples = [Sample(due=math.nan) for _ in bodies]
        self.jobs: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self.reconnects = 0
        self._lock = threading.Lock()

    def work(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while (index := self.jobs.get()) is not None:
            self.samples[index].started = time.monotonic()
            try:
                try:
                    connection = self._send(connection, index)
                except (ConnectionError, http.client.BadStatusLine, http.client.CannotSendRequest):
                    # A keep-alive connection the server closed while idle: reconnect, once.
                    if connection is not None:
                        connection.close()
                    with self._lock:
                        self.reconnects += 1
                    connection = self._send(None, index)
            except (OSError, http.client.HTTPException) as error:
                self.samples[index].error = type(error).__name__
                if connection is not None:
                    connection.close()
                connection = None
        if connection is not None:
            connection.close()

    def _connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _send(
        self, connection: http.client.HTTPConnection | None, index: int
    ) -> http.client.HTTPConnection | None:
        """Post one event; the connection to reuse, or None when the server closes it."""
        connection = connection or self._connect()
        connection.request("POST", SLACK_PATH, body=self.bodies[index], headers=self.headers[index])
        response = connection.getresponse()
        response.read()
        self.samples[index].acked = time.monotonic()
        self.samples[index].status = response.status
        if response.will_close:
            connection.close()
            return None
        return connection


# --- the servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One server process on 127.0.0.1 with its log in a file; stopped with SIGTERM."""

    def __init__(
        self,
        name: str,
        command: list[str],
        api_url: str,
        folder: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = folder / f"{name.replace(' ', '-')}.log"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "ERRDESK_", "PROMETHEUS_"))
            and key not in ("REDIS_URL", "PORT", "WEB_CONCURRENCY")
        }
        env |= {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "PORT": str(self.port),
            "ERRDESK_AUTOREPLY_CHANNELS": "*",
            "ERRDESK_DATA_DIR": str(folder / f"{name.replace(' ', '-')}.data"),
            **(extra_env or {}),
        }
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}: {self.tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
                connection.close()
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not up within {START_SECONDS:.0f} s: {self.tail()}")

    def cpu_seconds(self) -> float:
        """CPU time of the server and its workers so far (Linux /proc); NaN elsewhere."""
        return _cpu_seconds(self.process.pid)

    def tail(self, lines: int = 15) -> str:
        self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_SECONDS)
        self._log.close()


def _cpu_seconds(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After the name: state, ppid, ... utime is field 14, stime 15 (1-based, whole line).
            if int(entry.name) == pid or int(fields[1]) == pid:
                total += int(fields[11]) + int(fields[12])
    except OSError:
        return math.nan
    return total / ticks


# --- the load, in rounds that alternate between the servers ----------------------------------


@dataclass
class Target:
    """A server with its signed events; the first WARMUP_EVENTS are sent but not counted."""

    server: Server
    replies: bool
    stamps: list[str]
    bodies: list[bytes]
    headers: list[dict[str, str]]
    result: LoadResult = field(default_factory=LoadResult)


def warm_up(target: Target, fake: Any) -> None:
    """auth.test, first imports, first connections: done before anything is counted."""
    target.server.wait_ready()
    drive(
        target.server.port,
        target.bodies[:WARMUP_EVENTS],
        target.headers[:WARMUP_EVENTS],
        rate=50.0,
        connections=4,
    )
    if target.replies:
        _wait_replies(fake, target.stamps[:WARMUP_EVENTS], DRAIN_SECONDS)


def load_round(target: Target, fake: Any, first: int, count: int, rate: float) -> None:
    """Events first..first+count at `rate`; for errdesk, then wait for their replies."""
    chunk = slice(WARMUP_EVENTS + first, WARMUP_EVENTS + first + count)
    cpu_before = target.server.cpu_seconds()
    result = drive(target.server.port, target.bodies[chunk], target.headers[chunk], rate)
    if target.replies:
        stamps = target.stamps[chunk]
        arrivals = _wait_replies(fake, stamps, DRAIN_SECONDS)
        result.reply_delays = [
            arrivals[ts] - sample.due
            for ts, sample in zip(stamps, result.samples, strict=True)
            if ts in arrivals
        ]
    result.cpu_seconds = target.server.cpu_seconds() - cpu_before
    target.result.add(result)


def _wait_replies(fake: Any, stamps: Sequence[str], timeout: float) -> dict[str, float]:
    """Arrival time of the first chat.postMessage in each event's thread, waiting a bounded time."""
    wanted = set(stamps)
    deadline = time.monotonic() + timeout
    arrivals: dict[str, float] = {}
    while True:
        for call in fake.posts():
            thread = str(call.body.get("thread_ts") or "")
            if thread in wanted and call.body.get("channel") == CHANNEL:
                arrivals.setdefault(thread, call.at)
        if len(arrivals) >= len(wanted) or time.monotonic() > deadline:
            return arrivals
        time.sleep(0.1)


# --- the part ---------------------------------------------------------------------------------


def run(quick: bool = False, events: int | None = None, rate: float | None = None) -> list[Row]:
    events = min(events or (QUICK_EVENTS if quick else EVENTS), MAX_EVENTS)
    rate = min(rate or (QUICK_RATE if quick else RATE), MAX_RATE)
    if events / rate > MAX_LOAD_SECONDS:
        events = int(rate * MAX_LOAD_SECONDS)
    missing = [m for m in ("bot.server", "bot.app") if importlib.util.find_spec(m) is None]
    if missing:
        return [
            Row(PART, "errdesk serve", "skipped", f"{', '.join(missing)} not present", "", SKIP)
        ]
    try:
        from tests.fake_slack import FakeSlack
    except ImportError as error:
        return [Row(PART, "fake Slack", "skipped", f"tests.fake_slack: {error}", "", SKIP)]

    texts = event_texts()
    rounds = 1 if quick else ROUNDS
    fake = FakeSlack()
    targets: list[Target] = []
    try:
        with tempfile.TemporaryDirectory(prefix="errdesk-bench-") as folder:
            try:
                for name, command, replies in (
                    ("errdesk", [sys.executable, "-m", "bot", "serve"], True),
                    ("minimal Bolt", [sys.executable, "-m", "benchmarks.minimal_app"], False),
                ):
                    # This fake does not pace posts, and the load is far beyond what Slack takes
                    # in one channel: errdesk is told so, so that what is measured is its work.
                    server = Server(name, command, fake.api_url, Path(folder), UNPACED)
                    # One port per server, so no message ts is shared between the two.
                    plan = signed_requests(texts, WARMUP_EVENTS + events, f"{server.port:06d}")
                    targets.append(Target(server, replies, *plan))
                for target in targets:
                    warm_up(target, fake)
                # Alternating rounds: a drift in the machine's load (other work on it) falls
                # on both servers alike instead of on whichever ran second.
                for number in range(rounds):
                    first = number * events // rounds
                    count = (number + 1) * events // rounds - first
                    for target in targets:
                        load_round(target, fake, first, count, rate)
            finally:
                for target in targets:
                    target.server.stop()
    finally:
        fake.close()
    results = {target.server.name: target.result for target in targets}
    return _rows(results, events, rate, len(texts)) + burst_in_one_channel(quick)


def _rows(results: dict[str, LoadResult], events: int, rate: float, kinds: int) -> list[Row]:
    rows: list[Row] = []
    load = f"{events:,} events at {rate:.0f}/s"
    p99 = {}
    for name, result in results.items():
        latencies = result.ack_latencies()
        p99[name] = percentile(latencies, 99)
        subject = f"{name}, {load}"
        rows.append(
            Row(
                PART,
                subject,
                "ack latency p50 / p95 / p99",
                " / ".join(duration(percentile(latencies, q)) for q in (50, 95, 99)),
                "p99 <= 50 ms" if name == "errdesk" else "",
                judged(p99[name] <= ACK_P99_TARGET) if name == "errdesk" else "",
            )
        )
        if name == "errdesk":
            arrivals = result.reply_delays
            rows.append(
                Row(
                    PART,
                    subject,
                    "reply at fake Slack p50 / p95 / p99",
                    " / ".join(duration(percentile(arrivals, q)) for q in (50, 95, 99)),
                )
            )
        lag = [s.started - s.due for s in result.samples if not math.isnan(s.started)]
        rows.append(
            Row(
                PART,
                subject,
                "events/s acknowledged (client lag p99)",
                f"{result.events_per_second:.0f} ({duration(percentile(lag, 99))})",
            )
        )
        missing = events - len(result.reply_delays) if name == "errdesk" else 0
        rows.append(
            Row(
                PART,
                subject,
                "errors: not 200 / no reply (reconnects)",
                f"{result.failures} / {missing} ({result.reconnects})",
                "0 / 0",
                judged(result.failures == 0 and missing == 0),
            )
        )
        rows.append(
            Row(
                PART,
                subject,
                "server CPU per event",
                duration(safe_ratio(result.cpu_seconds, len(result.acked))),
            )
        )
    if "errdesk" in p99 and "minimal Bolt" in p99:
        factor = safe_ratio(p99["errdesk"], p99["minimal Bolt"])
        p50 = {name: percentile(result.ack_latencies(), 50) for name, result in results.items()}
        rows.append(
            Row(
                PART,
                "errdesk / minimal Bolt",
                "ack latency ratio p99 (p50)",
                f"{ratio(factor)} ({ratio(safe_ratio(p50['errdesk'], p50['minimal Bolt']))})",
                "<= 1.5x",
                judged(factor <= BASELINE_FACTOR),
            )
        )
    rows.append(Row(PART, "event texts", "distinct messages sent", f"{kinds} (errors, logs)"))
    return rows


# --- a burst in one channel, paced as Slack paces it ----------------------------------------


def burst_in_one_channel(quick: bool = False) -> list[Row]:
    """BURST_MESSAGES errors in one channel at once, Slack pacing posts there: every reply
    posted, in the order of the messages, none twice, and how long the last one took beside
    the least Slack's pace allows."""
    from tests.fake_slack import FakeSlack

    count = QUICK_BURST_MESSAGES if quick else BURST_MESSAGES
    pace = QUICK_POSTS_PER_SECOND if quick else SLACK_POSTS_PER_SECOND
    fake = FakeSlack()
    fake.pace_posts(per_second=pace, burst=SLACK_BURST)
    subject = f"errdesk, {count} errors at once in one channel, Slack pacing {pace:g} post/s"
    try:
        with tempfile.TemporaryDirectory(prefix="errdesk-burst-") as folder:
            env = {"ERRDESK_POST_RATE": str(pace)}
            command = [sys.executable, "-m", "bot", "serve"]
            server = Server("errdesk burst", command, fake.api_url, Path(folder), env)
            try:
                server.wait_ready()
                stamps, bodies, headers = signed_requests(event_texts(), count, "burst")
                started = time.monotonic()
                drive(server.port, bodies, headers, rate=MAX_RATE, connections=1)
                arrivals = _wait_replies(fake, stamps, count / pace + DRAIN_SECONDS)
                last = max(arrivals.values(), default=math.nan) - started
            finally:
                server.stop()
        posts = [
            str(call.body.get("thread_ts"))
            for call in fake.posts()
            if call.body.get("thread_ts") in set(stamps)
        ]
        refused = len([c for c in fake.calls_to("chat.postMessage", ok_only=False) if not c.ok])
    finally:
        fake.close()
    firsts = list(dict.fromkeys(posts))
    in_order = sum(1 for a, b in zip(firsts, stamps, strict=False) if a == b)
    twice = len(posts) - len(firsts)
    least = max(0.0, (count - SLACK_BURST) / pace)
    whole = len(firsts) == count and in_order == count and twice == 0
    return [
        Row(
            PART,
            subject,
            "replies posted / in order / posted twice",
            f"{len(firsts)} / {in_order} / {twice}",
            f"{count} / {count} / 0",
            judged(whole),
        ),
        Row(
            PART,
            subject,
            "last reply after (least Slack's pace allows)",
            f"{duration(last)} ({duration(least)})",
        ),
        Row(PART, subject, "posts refused with 429 by Slack", str(refused)),
    ]
