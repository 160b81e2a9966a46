"""errdesk's one store: events handled, threads explained, votes, and replies not yet posted.

Two backends. On one machine an embedded SQLite file under ERRDESK_DATA_DIR, which every worker
process of that machine opens, so that Slack's retry of an event reaching another worker is
still recognised and a vote is counted once (SQLite's own locking makes each mark atomic across
processes). Across machines Redis (REDIS_URL), because Slack may deliver a retry of an event to
another replica than the first try. Both journal the replies the outbound queue holds
(`bot.outbox`): the replies a process left at a stop, or held when it died, are claimed by
another one, exactly one claimer each. Memory is the fallback while Redis is unreachable, and
the store of unit tests.

Every mark expires and the in-memory store has a size cap, so nothing grows without bound. If
Redis becomes unreachable the bot keeps answering from memory (logged once) and returns to
Redis when it is back: a duplicate reply during an outage is better than no reply at all.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

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
# The embedded store: a file per machine, waited on for at most this long when another worker
# holds the lock, and cleared of expired marks at most this often.
SQLITE_FILE = "errdesk.sqlite3"
SQLITE_BUSY_SECONDS = 5.0
SQLITE_PURGE_SECONDS = 60.0

T = TypeVar("T")

# What a store call may raise: SQLite's errors (a full disk, a lock held past its timeout), and
# Redis's where RedisStore does not fall back to memory by itself.
STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, redis.RedisError, OSError)


class StateStore(Protocol):
    """Shared memory of the bot; implementations must be safe to call from many threads."""

    backend: str
    # Whether replies held here outlive this process (another process can claim them).
    durable: bool

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

    def hold_reply(self, owner: str, reply_id: str, payload: str) -> None:
        """Journal a reply `owner` (one process's outbound queue) is about to post."""
        ...

    def drop_reply(self, owner: str, reply_id: str) -> None:
        """The reply is done (posted or given up): out of the journal."""
        ...

    def hand_back_replies(self, owner: str) -> int:
        """`owner` stops: its journalled replies go to whoever claims them next; how many."""
        ...

    def claim_replies(self, owner: str, limit: int) -> list[str]:
        """Up to `limit` replies handed back, or held by an owner whose lease ran out, now
        held by `owner`; each reply goes to exactly one claimer."""
        ...

    def keep_alive(self, owner: str, seconds: int) -> None:
        """`owner` is alive for `seconds` more: its replies are not claimed by others."""
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
    durable = False

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

    # One process's memory outlives nothing: there is no journal to keep.
    def hold_reply(self, owner: str, reply_id: str, payload: str) -> None:
        return None

    def drop_reply(self, owner: str, reply_id: str) -> None:
        return None

    def hand_back_replies(self, owner: str) -> int:
        return 0

    def claim_replies(self, owner: str, limit: int) -> list[str]:
        return []

    def keep_alive(self, owner: str, seconds: int) -> None:
        return None

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
    durable = True

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
        self._hand_back: Any = client.register_script(_HAND_BACK)
        self._claim: Any = client.register_script(_CLAIM)

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

    def hold_reply(self, owner: str, reply_id: str, payload: str) -> None:
        def shared() -> None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(_held(owner), reply_id, payload)
            pipe.set(_lease(owner), "1", ex=REPLY_LEASE_SECONDS)
            pipe.sadd(REPLY_OWNERS, owner)
            pipe.execute()

        self._attempt(shared, lambda: None)

    def drop_reply(self, owner: str, reply_id: str) -> None:
        self._attempt(lambda: self._redis.hdel(_held(owner), reply_id), lambda: 0)

    def hand_back_replies(self, owner: str) -> int:
        keys = [_held(owner), REPLY_PENDING, _lease(owner), REPLY_OWNERS]
        return self._attempt(lambda: int(self._hand_back(keys=keys, args=[owner])), lambda: 0)

    def claim_replies(self, owner: str, limit: int) -> list[str]:
        keys = [REPLY_OWNERS, REPLY_PENDING, _held(owner), _lease(owner)]
        args = [owner, limit, REPLY_LEASE_SECONDS, KEY_PREFIX]
        return self._attempt(lambda: list(self._claim(keys=keys, args=args)), list)

    def keep_alive(self, owner: str, seconds: int) -> None:
        def shared() -> None:
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(_lease(owner), "1", ex=seconds)
            pipe.sadd(REPLY_OWNERS, owner)
            pipe.execute()

        self._attempt(shared, lambda: None)

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


# The reply journal in Redis: each process's held replies (a hash) and its lease, the set of
# owners, and the list of replies handed back. Scripts run atomically: one claimer per reply.
REPLY_LEASE_SECONDS = 30
REPLY_OWNERS = f"{KEY_PREFIX}replies:owners"
REPLY_PENDING = f"{KEY_PREFIX}replies:pending"


def _held(owner: str) -> str:
    return f"{KEY_PREFIX}replies:held:{owner}"


def _lease(owner: str) -> str:
    return f"{KEY_PREFIX}replies:lease:{owner}"


# KEYS: held, pending, lease, owners; ARGV: owner.
_HAND_BACK = """
local replies = redis.call('HVALS', KEYS[1])
for _, reply in ipairs(replies) do redis.call('RPUSH', KEYS[2], reply) end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
return #replies
"""
# KEYS: owners, pending, own held, own lease; ARGV: owner, limit, lease seconds, key prefix.
# Owners whose lease ran out (a process that died) are handed back first.
_CLAIM = """
for _, other in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[4] .. 'replies:lease:' .. other) == 0 then
    local held = ARGV[4] .. 'replies:held:' .. other
    for _, reply in ipairs(redis.call('HVALS', held)) do redis.call('RPUSH', KEYS[2], reply) end
    redis.call('DEL', held)
    redis.call('SREM', KEYS[1], other)
  end
end
local taken = {}
while #taken < tonumber(ARGV[2]) do
  local reply = redis.call('LPOP', KEYS[2])
  if not reply then break end
  local ok, data = pcall(cjson.decode, reply)
  if ok and type(data) == 'table' and data['reply_id'] then
    redis.call('HSET', KEYS[3], data['reply_id'], reply)
    taken[#taken + 1] = reply
  end
end
if #taken > 0 then
  redis.call('SET', KEYS[4], '1', 'EX', ARGV[3])
  redis.call('SADD', KEYS[1], ARGV[1])
end
return taken
"""


class SqliteStore:
    """errdesk's store on one machine: a SQLite file every worker process opens.

    Each mark is one statement (an upsert that wins only over an expired mark), so exactly one
    process wins however many race for a key; WAL mode lets readers and the one writer work at
    once. The schema is created on first start and migrated in order (`MIGRATIONS`, versions
    recorded in schema_migrations). Times are wall-clock seconds, shared by the processes.
    """

    backend = "sqlite"
    durable = True

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            path, timeout=SQLITE_BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._purged_at = 0.0
        with self._transaction() as db:
            _migrate(db)

    @classmethod
    def in_folder(cls, folder: Path) -> SqliteStore:
        return cls(folder / SQLITE_FILE)

    def first_time(self, key: str, ttl_seconds: int) -> bool:
        now = self._clock()
        with self._lock:
            self._purge(now)
            won = self._db.execute(
                "INSERT INTO marks (key, expires) VALUES (?, ?) ON CONFLICT (key) "
                "DO UPDATE SET expires = excluded.expires WHERE marks.expires <= ?",
                (key, now + ttl_seconds, now),
            ).rowcount
        return won == 1

    def forget(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM marks WHERE key = ?", (key,))

    def record_vote(self, key: str, user: str, vote: str) -> dict[str, int]:
        now = self._clock()
        with self._transaction() as db:
            db.execute("DELETE FROM votes WHERE message = ? AND expires <= ?", (key, now))
            db.execute(
                "INSERT INTO votes (message, user, vote, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (message, user) DO UPDATE SET vote = excluded.vote",
                (key, user, vote, now + VOTE_TTL),
            )
            db.execute("UPDATE votes SET expires = ? WHERE message = ?", (now + VOTE_TTL, key))
            rows = db.execute("SELECT vote FROM votes WHERE message = ?", (key,)).fetchall()
        return tally([row[0] for row in rows])

    def healthy(self) -> bool:
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def hold_reply(self, owner: str, reply_id: str, payload: str) -> None:
        now = self._clock()
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO replies (reply_id, owner, payload, queued) "
                "VALUES (?, ?, ?, ?)",
                (reply_id, owner, payload, now),
            )
            _lease_for(db, owner, now + REPLY_LEASE_SECONDS)

    def drop_reply(self, owner: str, reply_id: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM replies WHERE reply_id = ? AND owner = ?", (reply_id, owner)
            )

    def hand_back_replies(self, owner: str) -> int:
        with self._transaction() as db:
            count = db.execute("UPDATE replies SET owner = NULL WHERE owner = ?", (owner,)).rowcount
            db.execute("DELETE FROM owners WHERE owner = ?", (owner,))
        return int(count)

    def claim_replies(self, owner: str, limit: int) -> list[str]:
        now = self._clock()
        with self._transaction() as db:
            db.execute(
                "UPDATE replies SET owner = NULL WHERE owner IS NOT NULL AND owner NOT IN "
                "(SELECT owner FROM owners WHERE expires > ?)",
                (now,),
            )
            db.execute("DELETE FROM owners WHERE expires <= ?", (now,))
            rows = db.execute(
                "SELECT reply_id, payload FROM replies WHERE owner IS NULL ORDER BY queued LIMIT ?",
                (limit,),
            ).fetchall()
            db.executemany(
                "UPDATE replies SET owner = ? WHERE reply_id = ?", [(owner, r[0]) for r in rows]
            )
            if rows:
                _lease_for(db, owner, now + REPLY_LEASE_SECONDS)
        return [row[1] for row in rows]

    def keep_alive(self, owner: str, seconds: int) -> None:
        with self._transaction() as db:
            _lease_for(db, owner, self._clock() + seconds)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE), under this store's lock."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _purge(self, now: float) -> None:
        """Under the lock: drop expired marks and votes, at most every SQLITE_PURGE_SECONDS."""
        if now - self._purged_at < SQLITE_PURGE_SECONDS:
            return
        self._purged_at = now
        self._db.execute("DELETE FROM marks WHERE expires <= ?", (now,))
        self._db.execute("DELETE FROM votes WHERE expires <= ?", (now,))


# Versioned schema changes, applied once each, in order. Append; never edit an applied one.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            "CREATE TABLE marks (key TEXT PRIMARY KEY, expires REAL NOT NULL)",
            "CREATE TABLE votes (message TEXT NOT NULL, user TEXT NOT NULL, vote TEXT NOT NULL, "
            "expires REAL NOT NULL, PRIMARY KEY (message, user))",
            "CREATE TABLE replies (reply_id TEXT PRIMARY KEY, owner TEXT, payload TEXT NOT NULL, "
            "queued REAL NOT NULL)",
            "CREATE INDEX replies_by_owner ON replies (owner)",
            "CREATE TABLE owners (owner TEXT PRIMARY KEY, expires REAL NOT NULL)",
        ),
    ),
)


def _migrate(db: sqlite3.Connection) -> None:
    """Inside a transaction: apply the migrations this file has not seen yet."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied REAL NOT NULL)"
    )
    applied = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
    for version, statements in MIGRATIONS:
        if version in applied:
            continue
        for statement in statements:
            db.execute(statement)
        db.execute(
            "INSERT INTO schema_migrations (version, applied) VALUES (?, ?)", (version, time.time())
        )


def _lease_for(db: sqlite3.Connection, owner: str, expires: float) -> None:
    db.execute(
        "INSERT INTO owners (owner, expires) VALUES (?, ?) "
        "ON CONFLICT (owner) DO UPDATE SET expires = excluded.expires",
        (owner, expires),
    )


def create_store(settings: Settings) -> StateStore:
    """Redis when REDIS_URL is set (several machines), else the embedded SQLite file in
    ERRDESK_DATA_DIR (every worker of one machine)."""
    if settings.redis_url:
        return RedisStore.from_url(settings.redis_url)
    return SqliteStore.in_folder(settings.data_dir)
