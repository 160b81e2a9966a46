"""Replies on their way to Slack: one queue per channel, paced, retried, never posted twice.

Slack takes about one message a second in a channel (short bursts allowed) and answers a faster
poster with 429 and a Retry-After for that channel. So each channel has its own queue and its
own pace (ERRDESK_POST_RATE, a small burst first); a Retry-After or a back-off holds only that
channel, and a few worker threads serve every channel that may post now. A reply is kept until
it is posted or its attempts run out (then it is logged, counted, and the marks taken for it are
released so that Slack's retry of the event can still be answered).

A post whose answer was lost (a dropped connection, a timeout, a 5xx) may have been made. Each
post carries message metadata naming the event it answers, and before posting such a reply
again the outbox reads the thread (or the channel) back with include_all_metadata: a reply
found there is done, not posted twice.

The queue is journalled in the state store: with Redis (or the embedded SQLite store) the
replies left at a stop, or held by a process that died, are claimed by another process, which
looks before it posts them. `close(grace)` finishes what it can within the grace, then says
what it could not.

The journal is a safety net, not a gate: a store call that fails (a full disk, a lock held past
its timeout) is logged and counted by what failed, and the queue goes on without it, so a channel
never stays busy nor a listener hears of it. What such a failure means at a restart, where every
reply claimed from the journal is looked for before it is posted (`unsure`):
- a hold that failed (at queueing): the reply is not journalled, lost if this process dies
  before posting it; one that failed at a retry leaves the earlier version, replayed as it was;
- a drop that failed: the reply stays journalled until this process stops (or its lease runs
  out); the claimer finds it posted and does not post it again (unless Slack cannot be asked
  then: a second post); a reply refused or given up is tried once more there;
- a mark not released (`forget` failed): Slack's retry of that event is taken as answered;
- a lease refresh that failed: nothing, unless none succeeds for LEASE_SECONDS; then another
  process claims the replies held here and looks for each before posting it, but one still
  queued here may be posted by both;
- a claim that failed is tried at the next refresh; a hand back that failed at a stop leaves the
  replies to be claimed once this process's lease runs out.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from http import HTTPStatus
from http.client import HTTPException
from typing import TYPE_CHECKING, Any, TypeVar

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import WebClient

from bot import metrics
from bot.render.blocks import Message
from bot.state import STORE_ERRORS, StateStore

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("errdesk.outbox")

T = TypeVar("T")

EVENT_TYPE = "errdesk_reply"
# Slack allows a short burst beyond the steady one post a second per channel.
POST_BURST = 3
# Answers to messages that arrive together finish in any order on the worker threads: the first
# reply of a quiet channel waits this long, so that replies to a burst line up in the order of
# the messages they answer before the first is posted. A quarter second nobody notices.
GATHER_SECONDS = 0.25
# Posts are paced a little under the rate: one a hair too early costs a whole second of
# Retry-After (Slack gives it in whole seconds).
PACE_MARGIN = 0.95
WORKERS = 4
MAX_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 30.0
# How often the journal is refreshed (the lease of this process) and others' replies claimed.
JOURNAL_SECONDS = 2.0
LEASE_SECONDS = 30
CLAIM_BATCH = 50
# A reply looked for after a lost response was posted after it was queued, give or take clocks.
LOOKUP_SLACK_SECONDS = 120.0
# A post not answered in this time is treated as lost, and looked for before it is tried again.
POST_TIMEOUT = 15


@dataclass(frozen=True)
class Reply:
    """One message to post, with what is needed to post it once and to give up cleanly."""

    reply_id: str  # names the post in its metadata: the event (or action) it answers
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    # Replies in a channel are posted in this order: the ts of the message they answer.
    order: str = ""
    # Marks to forget if it can never be posted, so that a retry of the event is answered.
    release: tuple[str, ...] = ()
    queued_at: float = field(default_factory=time.time)
    attempts: int = 0
    # An earlier attempt may have reached Slack: look for it before posting again.
    unsure: bool = False

    @classmethod
    def of(
        cls,
        reply_id: str,
        channel: str,
        message: Message,
        thread_ts: str | None = None,
        *,
        release: tuple[str | None, ...] = (),
    ) -> Reply:
        return cls(
            reply_id=reply_id,
            channel=channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=thread_ts,
            order=thread_ts or "",
            release=tuple(key for key in release if key),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, payload: str) -> Reply | None:
        """A reply from the journal, or None for one that does not read as a reply."""
        try:
            data = json.loads(payload)
            data["release"] = tuple(data.get("release") or ())
            return cls(**data)
        except (ValueError, TypeError):
            return None


class Delivery:
    """What became of one reply: posted (True), given up (False), or not known yet (None)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._posted: bool | None = None

    def settle(self, posted: bool) -> None:
        self._posted = posted
        self._done.set()

    def wait(self, timeout: float) -> bool | None:
        self._done.wait(timeout)
        return self._posted


@dataclass
class _Channel:
    """The queue of one channel and what it may do next."""

    queue: list[tuple[str, int, Reply]] = field(default_factory=list)
    busy: bool = False  # a post is in flight: the next waits, so that order is kept
    tokens: float = float(POST_BURST)
    tokens_at: float = 0.0
    hold_until: float = 0.0  # Retry-After or a back-off

    def due(self, now: float, per_second: float) -> float:
        """When this channel may post next (`now` or later)."""
        if now > self.tokens_at:
            self.tokens = min(float(POST_BURST), self.tokens + (now - self.tokens_at) * per_second)
            self.tokens_at = now
        paced = now if self.tokens >= 1.0 else now + (1.0 - self.tokens) / per_second
        return max(paced, self.hold_until)


class Outbox:
    """The per-channel queues of one process, their workers and their journal."""

    def __init__(
        self,
        client: WebClient,
        store: StateStore,
        *,
        posts_per_second: float = 1.0,
        workers: int = WORKERS,
        max_attempts: int = MAX_ATTEMPTS,
        clock: Callable[[], float] = time.monotonic,
        gather_seconds: float = 0.0,
    ) -> None:
        self._client = client
        self._gather = gather_seconds
        self._max_attempts = max_attempts
        self._store = store
        self._per_second = posts_per_second * PACE_MARGIN
        self._clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock = threading.Condition()
        self._channels: dict[str, _Channel] = {}
        self._deliveries: dict[str, Delivery] = {}
        self._sequence = itertools.count()
        self._in_flight = 0
        self._stopped = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"outbox-{n}", daemon=True)
            for n in range(workers)
        ]
        self._threads.append(
            threading.Thread(target=self._journal, name="outbox-journal", daemon=True)
        )
        for thread in self._threads:
            thread.start()
        _OPEN.append(self)

    # --- what listeners call --------------------------------------------------------------

    def send(self, reply: Reply) -> Delivery:
        """Queue `reply`; posted at once, in the caller's thread, when its channel may post now
        and nothing is queued before it."""
        delivery = Delivery()
        if self._stopped.is_set():
            self._hold(reply)
            self._hand_back()
            self._left_over(1)
            return delivery
        self._hold(reply)
        with self._lock:
            self._deliveries[reply.reply_id] = delivery
            self._enqueue(reply)
            now = self._clock()
            channel = self._channels[reply.channel]
            inline = (
                not channel.busy
                and channel.queue[0][2] is reply
                and channel.due(now, self._per_second) <= now
            )
            taken = self._take(reply.channel, now) if inline else None
            self._lock.notify_all()
        if taken is not None:
            self._attempt(taken)
        return delivery

    def pending(self) -> int:
        """Replies queued or in flight in this process."""
        with self._lock:
            return self._in_flight + sum(len(c.queue) for c in self._channels.values())

    def close(self, grace: float) -> int:
        """Post what is queued for at most `grace` seconds, then stop; how many were left.

        Replies still queued then stay in the journal, handed back for another process (with
        Redis, another replica; with the embedded store, the next start), and are logged and
        counted as unposted here.
        """
        deadline = self._clock() + max(grace, 0.0)
        with self._lock:
            while self._in_flight or any(c.queue for c in self._channels.values()):
                left = deadline - self._clock()
                if left <= 0:
                    break
                self._lock.wait(min(left, 0.1))
            self._stopped.set()
            queued = sum(len(c.queue) for c in self._channels.values())
            left_over = self._in_flight + queued
            for channel in self._channels.values():
                channel.queue.clear()
            metrics.OUTBOX_PENDING.dec(queued)
            self._lock.notify_all()
        self._hand_back()
        if self in _OPEN:
            _OPEN.remove(self)
        if left_over:
            self._left_over(left_over)
        else:
            log.info("Outbound queue stopped: every reply was posted", extra={"unposted": 0})
        return left_over

    # --- the queues -------------------------------------------------------------------------

    def _enqueue(self, reply: Reply) -> None:
        """Under the lock: into its channel's queue, in the order of the messages answered."""
        channel = self._channels.get(reply.channel)
        if channel is None:
            now = self._clock()
            channel = self._channels[reply.channel] = _Channel(
                tokens_at=now, hold_until=now + self._gather
            )
        heapq.heappush(channel.queue, (reply.order, next(self._sequence), reply))
        metrics.OUTBOX_PENDING.inc()

    def _take(self, name: str, now: float) -> Reply:
        """Under the lock: the head of a channel that may post now; the channel is busy."""
        channel = self._channels[name]
        _, _, reply = heapq.heappop(channel.queue)
        channel.tokens -= 1.0
        channel.busy = True
        self._in_flight += 1
        metrics.OUTBOX_PENDING.dec()
        return reply

    def _next(self) -> Reply | None:
        """Wait for a channel that may post, and take its head; None once stopped."""
        with self._lock:
            while not self._stopped.is_set():
                now = self._clock()
                soonest = None
                for name, channel in list(self._channels.items()):
                    if channel.busy:
                        continue
                    due = channel.due(now, self._per_second)
                    if not channel.queue:
                        if due <= now and channel.tokens >= POST_BURST:
                            del self._channels[name]  # idle, its pace full: nothing to keep
                        continue
                    if due <= now:
                        return self._take(name, now)
                    soonest = due if soonest is None else min(soonest, due)
                self._lock.wait(None if soonest is None else soonest - now)
        return None

    def _work(self) -> None:
        while (reply := self._next()) is not None:
            self._attempt(reply)

    def _finish(
        self,
        reply: Reply,
        *,
        requeue: Reply | None = None,
        hold: float = 0.0,
        posted: bool = True,
    ) -> None:
        """The attempt is over: requeue `requeue`, hold the channel for `hold` seconds; with
        `posted=False` the attempt gives back its place in the pace (nothing was posted)."""
        with self._lock:
            channel = self._channels[reply.channel]
            channel.busy = False
            self._in_flight -= 1
            if not posted:
                channel.tokens = min(float(POST_BURST), channel.tokens + 1.0)
            if hold:  # no burst after a hold: the pace starts again from its end
                channel.hold_until = max(channel.hold_until, self._clock() + hold)
                channel.tokens, channel.tokens_at = 0.0, channel.hold_until
            if requeue is not None and not self._stopped.is_set():
                self._enqueue(requeue)
            self._lock.notify_all()

    # --- one attempt ----------------------------------------------------------------------

    def _attempt(self, reply: Reply) -> None:
        """Post `reply` once (after looking for it when unsure); requeue it, or settle it."""
        try:
            if reply.unsure and self._already_posted(reply):
                self._settle(reply, "found_posted")
                return
            self._client.chat_postMessage(
                channel=reply.channel,
                thread_ts=reply.thread_ts,
                text=reply.text,
                blocks=reply.blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"event_id": reply.reply_id}},
            )
        except SlackApiError as error:
            self._refused(reply, error)
            return
        except (SlackClientError, OSError, HTTPException) as error:
            metrics.slack_call_failed("chat.postMessage", type(error).__name__)
            self._retry(reply, "connection", unsure=True)
            return
        except Exception as error:  # never lose a reply, nor a worker, to a surprise
            log.error("Posting a reply failed: %s", type(error).__name__)
            self._retry(reply, "unexpected", unsure=True)
            return
        self._settle(reply, "posted")

    def _refused(self, reply: Reply, error: SlackApiError) -> None:
        status = error.response.status_code if error.response is not None else 0
        code = str(error.response.get("error") or "unknown") if error.response else "unknown"
        metrics.slack_call_failed("chat.postMessage", code)
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            self._retry(reply, "ratelimited", hold=_retry_after(error))
        elif status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            self._retry(reply, "server_error", unsure=True)
        else:
            self._settle(reply, "refused")

    def _retry(self, reply: Reply, reason: str, *, unsure: bool = False, hold: float = 0.0) -> None:
        attempts = reply.attempts + 1
        if attempts >= self._max_attempts:
            self._settle(reply, "gave_up")
            return
        again = replace(reply, attempts=attempts, unsure=reply.unsure or unsure)
        backoff = hold or min(MAX_BACKOFF_SECONDS, 2.0 ** (attempts - 1))
        try:
            metrics.OUTBOX_RETRIES.labels(reason=reason).inc()
            self._hold(again)
        finally:
            self._finish(reply, requeue=again, hold=backoff)

    def _settle(self, reply: Reply, outcome: str) -> None:
        """A reply is done: posted, found posted, or given up (its marks released)."""
        posted = outcome in ("posted", "found_posted")
        try:
            metrics.OUTBOX_REPLIES.labels(outcome=outcome).inc()
            if posted:
                metrics.OUTBOX_WAIT.observe(max(0.0, time.time() - reply.queued_at))
            else:
                log.warning(
                    "A reply was not posted (%s after %d attempt(s))",
                    outcome,
                    reply.attempts + 1,
                    extra={"outcome": outcome, "attempts": reply.attempts + 1},
                )
                for key in reply.release:
                    self._stored("forget", partial(self._store.forget, key), None)
            self._stored(
                "drop_reply", partial(self._store.drop_reply, self.owner, reply.reply_id), None
            )
            with self._lock:
                delivery = self._deliveries.pop(reply.reply_id, None)
            if delivery is not None:
                delivery.settle(posted)
        finally:
            self._finish(reply, posted=outcome != "refused")

    def _already_posted(self, reply: Reply) -> bool:
        """Whether a message naming `reply` in its metadata is in its thread or channel.

        If Slack cannot be asked, the answer is no: a reply posted twice is better than none.
        """
        since = f"{reply.queued_at - LOOKUP_SLACK_SECONDS:.6f}"
        try:
            if reply.thread_ts:
                response = self._client.conversations_replies(
                    channel=reply.channel,
                    ts=reply.thread_ts,
                    oldest=since,
                    include_all_metadata=True,
                    limit=200,
                )
            else:
                response = self._client.conversations_history(
                    channel=reply.channel, oldest=since, include_all_metadata=True, limit=200
                )
        except SlackApiError as error:
            code = str(error.response.get("error") or "unknown") if error.response else "unknown"
            metrics.slack_call_failed("conversations.lookup", code)
            return False
        except (SlackClientError, OSError, HTTPException) as error:
            metrics.slack_call_failed("conversations.lookup", type(error).__name__)
            return False
        messages = response.get("messages") or []
        return any(_names(message, reply.reply_id) for message in messages)

    # --- the journal ----------------------------------------------------------------------

    def _journal(self) -> None:
        """Keep this process's lease, and take in replies others handed back or left."""
        while not self._stopped.wait(JOURNAL_SECONDS):
            self._stored(
                "keep_alive", partial(self._store.keep_alive, self.owner, LEASE_SECONDS), None
            )
            claimed: list[str] = self._stored(
                "claim_replies", partial(self._store.claim_replies, self.owner, CLAIM_BATCH), []
            )
            for payload in claimed:
                reply = Reply.from_json(payload)
                if reply is None:
                    continue
                with self._lock:
                    if not self._stopped.is_set():
                        self._enqueue(replace(reply, unsure=True))
                        self._lock.notify_all()

    def _hold(self, reply: Reply) -> None:
        self._stored(
            "hold_reply",
            partial(self._store.hold_reply, self.owner, reply.reply_id, reply.to_json()),
            None,
        )

    def _hand_back(self) -> None:
        self._stored("hand_back_replies", partial(self._store.hand_back_replies, self.owner), 0)

    def _stored(self, operation: str, call: Callable[[], T], failed: T) -> T:
        """`call()` on the store, or `failed` when the store fails: logged and counted as
        `operation`, and gone on without (the module's docstring says what that costs)."""
        try:
            return call()
        except STORE_ERRORS as error:
            metrics.store_call_failed(operation, type(error).__name__)
            return failed

    def _left_over(self, count: int) -> None:
        metrics.OUTBOX_REPLIES.labels(outcome="unposted").inc(count)
        log.warning(
            "Stopped with %d repl%s not posted; %s",
            count,
            "y" if count == 1 else "ies",
            "they stay in the shared store for another process"
            if self._store.durable
            else "they are lost (no shared store)",
            extra={"unposted": count},
        )


def _retry_after(error: SlackApiError) -> float:
    """Slack's Retry-After in seconds (1 when it gives none that reads as a number)."""
    headers = error.response.headers if error.response is not None else {}
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(str(value)))
    except ValueError:
        return 1.0


def _names(message: Any, reply_id: str) -> bool:
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("event_id") == reply_id


def create_outbox(settings: Settings, store: StateStore) -> Outbox:
    """The outbox of a process, on a WebClient of its own that never retries by itself: a post
    retried inside the client, after a lost response, could be a second post."""
    client = WebClient(
        token=settings.bot_token,
        base_url=settings.slack_api_url,
        timeout=POST_TIMEOUT,
        retry_handlers=[],
    )
    return Outbox(client, store, posts_per_second=settings.post_rate, gather_seconds=GATHER_SECONDS)


# gunicorn's worker_exit hook and the Socket Mode loop stop the outboxes of their process.
_OPEN: list[Outbox] = []


def close_all(grace: float) -> int:
    """Close every open outbox of this process within `grace` seconds; how many replies were
    left."""
    deadline = time.monotonic() + grace
    return sum(outbox.close(max(0.0, deadline - time.monotonic())) for outbox in list(_OPEN))
