"""What the bot must remember between requests: events handled, threads explained, votes.

One replica keeps it in memory; several replicas share it in Redis (REDIS_URL), because Slack
may deliver a retry of an event to a different replica than the first try. Every key expires
and the in-memory store has a size cap, so nothing grows without bound. If Redis becomes
unreachable the bot keeps answering from memory (logged once) and returns to Redis when it is
back: a duplicate reply during an outage is better than no reply at all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "errdesk:"
# Slack retries an unacknowledged event three times within about five minutes.
SEEN_EVENT_TTL = 60 * 60
# A thread is explained once; a week later it is old enough to explain again.
EXPLAINED_THREAD_TTL = 7 * 24 * 60 * 60
# Votes on a reply are kept for a month after the last vote.
VOTE_TTL = 30 * 24 * 60 * 60
VOTE_CHOICES = ("helpful", "not_it")

# Redis answers in well under a millisecond; anything slower means it is in trouble, and
# Slack wants an answer within 3 seconds.
REDIS_SOCKET_TIMEOUT = 0.5
REDIS_RETRY_SECONDS = 5.0
MEMORY_MAX_KEYS = 100_000

T = TypeVar("T")


class StateStore(Protocol):
    """Shared memory of the bot; implementations must be safe to call from many threads."""

    backend: str

    def first_time(self, key: str, ttl_seconds: int) -> bool:
        """Mark `key` for `ttl_seconds`; True only for the first caller (across replicas)."""
        ...

    def forget(self, key: str) -> None:
        """Remove the mark `key`, so that its next `first_time` is True again."""
        ...

    def record_vote(self, key: str, user: str, vote: str) -> dict[str, int]:
        """Record `user`'s vote on message `key` (a later vote replaces theirs); the tallies."""
        ...

    def healthy(self) -> bool:
        """Whether the configured backend is reachable right now."""
        ...


def tally(votes: list[str]) -> dict[str, int]:
    """Counts per vote, with every known choice present (0 when nobody chose it)."""
    return {**dict.fromkeys(VOTE_CHOICES, 0), **Counter(votes)}


class MemoryStore:
    """State of a single process: thread-safe, expiring, and capped at `max_keys`.

    Keys are kept in insertion order and the oldest go first when the cap is reached, so a
    flood of events costs bounded memory; the price is forgetting the oldest marks early.
    """

    backend = "memory"

    def __init__(
        self, max_keys: int = MEMORY_MAX_KEYS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._marks: OrderedDict[str, float] = OrderedDict()
        self._votes: OrderedDict[str, tuple[float, dict[str, str]]] = OrderedDict()

    def first_time(self, key: str, ttl_seconds: int) -> bool:
        now = self._clock()
        with self._lock:
            expires = self._marks.get(key)
            if expires is not None and expires > now:
                return False
            self._marks.pop(key, None)
            self._marks[key] = now + ttl_seconds
            _trim(self._marks, now, self._max_keys, lambda expires: expires)
            return True

    def forget(self, key: str) -> None:
        with self._lock:
            self._marks.pop(key, None)

    def seen(self, key: str) -> bool:
        """Whether `key` is marked and not expired; marks nothing."""
        with self._lock:
            expires = self._marks.get(key)
        return expires is not None and expires > self._clock()

    def record_vote(self, key: str, user: str, vote: str) -> dict[str, int]:
        now = self._clock()
        with self._lock:
            expires, ballots = self._votes.pop(key, (now, {}))
            if expires <= now:
                ballots = {}
            ballots[user] = vote
            self._votes[key] = (now + VOTE_TTL, ballots)
            _trim(self._votes, now, self._max_keys, lambda item: item[0])
            return tally(list(ballots.values()))

    def healthy(self) -> bool:
        return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._marks) + len(self._votes)


def _trim(
    items: OrderedDict[str, T], now: float, max_keys: int, expiry: Callable[[T], float]
) -> None:
    """Drop expired items from the old end, then the oldest items beyond `max_keys`."""
    while items:
        oldest = next(iter(items.values()))
        if expiry(oldest) > now and len(items) <= max_keys:
            return
        items.popitem(last=False)


class RedisStore:
    """State shared by all replicas through Redis, with memory as a fallback during outages.

    Each call that finds Redis unreachable switches to the fallback and logs it once; Redis is
    tried again at most every `retry_seconds`, and its recovery is logged once too. Marks this
    process made in memory during an outage still count as seen after Redis is back; Redis is
    the one arbiter otherwise, so exactly one caller wins however many race for a key.
    """

    backend = "redis"

    def __init__(
        self,
        client: redis.Redis,
        fallback: MemoryStore | None = None,
        retry_seconds: float = REDIS_RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = client
        self._fallback = fallback or MemoryStore()
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until: float | None = None

    @classmethod
    def from_url(cls, url: str, retry_seconds: float = REDIS_RETRY_SECONDS) -> RedisStore:
        """A store on `url` with short timeouts and no retries inside redis-py."""
        client = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
            decode_responses=True,
        )
        return cls(client, retry_seconds=retry_seconds)

    @property
    def degraded(self) -> bool:
        """True while answers come from memory because Redis was unreachable."""
        with self._lock:
            return self._down_until is not None

    def first_time(self, key: str, ttl_seconds: int) -> bool:
        def shared() -> bool:
            won = bool(self._redis.set(KEY_PREFIX + key, "1", nx=True, ex=ttl_seconds))
            return won and not self._fallback.seen(key)

        return self._attempt(shared, lambda: self._fallback.first_time(key, ttl_seconds))

    def forget(self, key: str) -> None:
        """Remove the mark from Redis and from the fallback, which may hold it from an outage."""
        self._fallback.forget(key)
        self._attempt(lambda: self._redis.delete(KEY_PREFIX + key), lambda: 0)

    def record_vote(self, key: str, user: str, vote: str) -> dict[str, int]:
        def shared() -> dict[str, int]:
            name = f"{KEY_PREFIX}votes:{key}"
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(name, user, vote)
            pipe.expire(name, VOTE_TTL)
            pipe.hvals(name)
            return tally(pipe.execute()[-1])

        return self._attempt(shared, lambda: self._fallback.record_vote(key, user, vote))

    def healthy(self) -> bool:
        return self._attempt(lambda: bool(self._redis.ping()), lambda: False, probe=True)

    def _attempt(
        self, shared: Callable[[], T], local: Callable[[], T], *, probe: bool = False
    ) -> T:
        """`shared()` unless Redis is known to be down; `local()` when it is or when it fails.

        A probe always tries Redis, so readiness reflects the truth rather than the back-off.
        """
        with self._lock:
            waiting = self._down_until is not None and self._clock() < self._down_until
        if waiting and not probe:
            return local()
        try:
            result = shared()
        except redis.RedisError as error:
            self._went_down(error)
            return local()
        self._came_back()
        return result

    def _went_down(self, error: redis.RedisError) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = self._clock() + self._retry_seconds
        if first:
            log.warning(
                "Redis unreachable (%s: %s); using in-memory state until it is back",
                type(error).__name__,
                error,
                extra={"state_backend": "memory"},
            )

    def _came_back(self) -> None:
        with self._lock:
            if self._down_until is None:
                return
            self._down_until = None
        log.warning(
            "Redis reachable again; shared state restored", extra={"state_backend": "redis"}
        )


def create_store(settings: Settings) -> StateStore:
    """Redis when REDIS_URL is set (several replicas), else memory (one process)."""
    if settings.redis_url:
        return RedisStore.from_url(settings.redis_url)
    return MemoryStore()
