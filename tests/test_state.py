"""errdesk's store: atomic first-time marks, expiry, bounds, votes, the reply journal, in memory,
in the embedded SQLite file (across processes) and in Redis (surviving an outage)."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.config import load_settings
from bot.state import (
    KEY_PREFIX,
    MIGRATIONS,
    VOTE_TTL,
    MemoryStore,
    RedisStore,
    SqliteStore,
    StateStore,
    create_store,
)
from tests.redis_process import any_redis, own_redis
from tests.support import free_port, logged

THREADS = 32
ROUNDS = 5


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def race(store: StateStore, key: str) -> list[bool]:
    """`first_time(key)` from many threads released at the same instant."""
    barrier = threading.Barrier(THREADS)
    results: list[bool] = []
    lock = threading.Lock()

    def contender() -> None:
        barrier.wait()
        outcome = store.first_time(key, 60)
        with lock:
            results.append(outcome)

    workers = [threading.Thread(target=contender) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    return results


def unique(name: str) -> str:
    return f"test:{name}:{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with any_redis() as url:
        yield url


@pytest.fixture
def redis_store(redis_url: str) -> RedisStore:
    return RedisStore.from_url(redis_url)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> SqliteStore:
    return SqliteStore.in_folder(tmp_path)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest) -> StateStore:
    if request.param == "memory":
        return MemoryStore()
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture(params=["sqlite", "redis"])
def durable(request: pytest.FixtureRequest) -> StateStore:
    """A store whose journal outlives a process: SQLite on one machine, Redis across them."""
    return request.getfixturevalue(f"{request.param}_store")


def test_first_time_is_true_for_exactly_one_of_many_threads(store: StateStore) -> None:
    for _ in range(ROUNDS):
        results = race(store, unique("race"))
        assert len(results) == THREADS
        assert results.count(True) == 1


def test_votes_count_one_per_user_and_a_later_vote_replaces_the_earlier(
    store: StateStore,
) -> None:
    message = unique("votes")
    assert store.record_vote(message, "U1", "helpful") == {"helpful": 1, "not_it": 0}
    assert store.record_vote(message, "U2", "helpful") == {"helpful": 2, "not_it": 0}
    assert store.record_vote(message, "U1", "helpful") == {"helpful": 2, "not_it": 0}
    assert store.record_vote(message, "U1", "not_it") == {"helpful": 1, "not_it": 1}


def test_memory_marks_expire() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    assert store.first_time("event", 60)
    clock.now += 59
    assert not store.first_time("event", 60)
    clock.now += 2
    assert store.first_time("event", 60)


def test_memory_votes_expire() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.record_vote("message", "U1", "helpful")
    clock.now += VOTE_TTL + 1
    assert store.record_vote("message", "U2", "not_it") == {"helpful": 0, "not_it": 1}


def test_memory_is_bounded_and_forgets_the_oldest_first() -> None:
    store = MemoryStore(max_keys=100)
    for number in range(1000):
        store.first_time(f"event-{number}", 3600)
        store.record_vote(f"message-{number}", "U1", "helpful")
    assert len(store) == 200
    assert store.first_time("event-0", 3600), "the oldest mark should have been evicted"
    assert not store.first_time("event-999", 3600), "the newest mark must be remembered"


def test_memory_drops_expired_entries_without_waiting_for_the_cap() -> None:
    clock = FakeClock()
    store = MemoryStore(max_keys=1000, clock=clock)
    for number in range(10):
        store.first_time(f"old-{number}", 10)
    clock.now += 11
    store.first_time("new", 10)
    assert len(store) == 1


def test_redis_marks_are_prefixed_and_expire(redis_store: RedisStore, redis_url: str) -> None:
    key = unique("ttl")
    assert redis_store.first_time(key, 30)
    client = redis.Redis.from_url(redis_url)
    assert 0 < client.ttl(KEY_PREFIX + key) <= 30


def test_redis_votes_expire(redis_store: RedisStore, redis_url: str) -> None:
    message = unique("vote-ttl")
    redis_store.record_vote(message, "U1", "helpful")
    client = redis.Redis.from_url(redis_url)
    assert 0 < client.ttl(f"{KEY_PREFIX}votes:{message}") <= VOTE_TTL


def test_two_replicas_share_marks(redis_url: str) -> None:
    first, second = RedisStore.from_url(redis_url), RedisStore.from_url(redis_url)
    key = unique("shared")
    assert first.first_time(key, 60)
    assert not second.first_time(key, 60)


def test_unreachable_redis_falls_back_to_memory_quickly_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0", retry_seconds=0)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="bot.state"):
        assert store.first_time("event", 60)
        assert not store.first_time("event", 60)
        assert store.record_vote("message", "U1", "helpful") == {"helpful": 1, "not_it": 0}
        assert not store.healthy()
    assert time.monotonic() - started < 2
    assert store.degraded
    messages = [record.getMessage() for record in logged(caplog, "bot.state")]
    assert len(messages) == 1, messages
    assert "unreachable" in messages[0]


def outage_store(url: str, clock: FakeClock) -> RedisStore:
    """A store on a Redis the test will kill: no client retries, Redis retried every 5 s."""
    return RedisStore(
        redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0)), retry_seconds=5, clock=clock
    )


def test_recovers_when_redis_comes_back_and_remembers_what_it_saw_meanwhile(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    with own_redis() as server:
        store = outage_store(server.url, clock)
        assert store.first_time("before", 60)
        server.kill()
        with caplog.at_level(logging.WARNING, logger="bot.state"):
            assert store.first_time("during", 60)
            assert store.first_time("during-2", 60)
            server.start()
            clock.now += 1
            assert store.degraded, "Redis is retried only after retry_seconds"
            clock.now += 5
            assert not store.first_time("during", 60), "seen during the outage"
            assert not store.degraded
            assert store.healthy()
        messages = [record.getMessage() for record in logged(caplog, "bot.state")]
        assert len(messages) == 2, messages
        assert "unreachable" in messages[0]
        assert "reachable again" in messages[1]


def test_create_store_picks_the_backend_from_the_settings(redis_url: str, tmp_path: Path) -> None:
    embedded = create_store(load_settings({"ERRDESK_DATA_DIR": str(tmp_path / "data")}))
    assert embedded.backend == "sqlite"
    assert (tmp_path / "data" / "errdesk.sqlite3").is_file()
    assert create_store(load_settings({"REDIS_URL": redis_url})).backend == "redis"


def test_a_forgotten_mark_can_be_taken_again(store: StateStore) -> None:
    key = unique("forget")
    assert store.first_time(key, 60)
    store.forget(key)
    assert store.first_time(key, 60)
    assert not store.first_time(key, 60)
    store.forget(unique("never-marked"))  # nothing to forget: no error


def test_forgetting_reaches_marks_made_in_memory_during_an_outage() -> None:
    clock = FakeClock()
    with own_redis() as server:
        store = outage_store(server.url, clock)
        server.kill()
        assert store.first_time("during", 60)
        store.forget("during")
        server.start()
        clock.now += 6
        assert store.first_time("during", 60)
        assert not store.degraded


# --- the embedded store: one file, several processes ---------------------------------------


def _race_in_a_process(path: str, key: str, barrier: object, results: object) -> None:
    store = SqliteStore(Path(path))
    barrier.wait()
    results.put(store.first_time(key, 60))


def test_first_time_is_true_for_exactly_one_of_several_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "errdesk.sqlite3")
    SqliteStore(Path(path))  # the schema, created once
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(6), context.Queue()
    workers = [
        context.Process(target=_race_in_a_process, args=(path, "event:Ev1", barrier, results))
        for _ in range(6)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    assert outcomes.count(True) == 1, outcomes


def test_two_processes_on_one_file_share_marks_and_votes(tmp_path: Path) -> None:
    first, second = SqliteStore.in_folder(tmp_path), SqliteStore.in_folder(tmp_path)
    assert first.first_time("event:Ev2", 60)
    assert not second.first_time("event:Ev2", 60)
    first.record_vote("C1:1.2", "U1", "helpful")
    assert second.record_vote("C1:1.2", "U2", "not_it") == {"helpful": 1, "not_it": 1}


def test_sqlite_marks_and_votes_expire(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SqliteStore(tmp_path / "s.sqlite3", clock=clock)
    assert store.first_time("event", 60)
    clock.now += 59
    assert not store.first_time("event", 60)
    clock.now += 2
    assert store.first_time("event", 60)
    store.record_vote("message", "U1", "helpful")
    clock.now += VOTE_TTL + 1
    assert store.record_vote("message", "U2", "not_it") == {"helpful": 0, "not_it": 1}


def test_the_schema_is_created_once_and_its_migrations_recorded(tmp_path: Path) -> None:
    SqliteStore.in_folder(tmp_path)
    SqliteStore.in_folder(tmp_path)  # a second start migrates nothing twice
    with sqlite3.connect(tmp_path / "errdesk.sqlite3") as db:
        versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations")]
    assert versions == [version for version, _ in MIGRATIONS]


# --- the reply journal ---------------------------------------------------------------------


def payload(reply_id: str) -> str:
    return f'{{"reply_id": "{reply_id}", "channel": "C1"}}'


def test_replies_handed_back_are_claimed_by_exactly_one_other(durable: StateStore) -> None:
    leaving, first, second = (unique("owner") for _ in range(3))
    ids = [unique("reply") for _ in range(5)]
    for reply_id in ids:
        durable.hold_reply(leaving, reply_id, payload(reply_id))
    durable.drop_reply(leaving, ids[0])  # posted: no longer held
    assert durable.hand_back_replies(leaving) == 4
    claimed = durable.claim_replies(first, 50) + durable.claim_replies(second, 50)
    mine = [text for text in claimed if any(reply_id in text for reply_id in ids)]
    assert sorted(mine) == sorted(payload(reply_id) for reply_id in ids[1:])


def test_replies_of_a_live_owner_are_not_claimed(durable: StateStore) -> None:
    alive, other = unique("owner"), unique("owner")
    reply_id = unique("reply")
    durable.keep_alive(alive, 30)
    durable.hold_reply(alive, reply_id, payload(reply_id))
    assert not [text for text in durable.claim_replies(other, 50) if reply_id in text]


def test_replies_of_an_owner_whose_lease_ran_out_are_claimed(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SqliteStore(tmp_path / "s.sqlite3", clock=clock)
    store.hold_reply("died", "Ev1", payload("Ev1"))
    assert store.claim_replies("alive", 50) == []
    clock.now += 31
    assert store.claim_replies("alive", 50) == [payload("Ev1")]
    assert store.claim_replies("third", 50) == []


def test_redis_replies_of_an_owner_whose_lease_ran_out_are_claimed(
    redis_store: RedisStore, redis_url: str
) -> None:
    died, alive = unique("owner"), unique("owner")
    reply_id = unique("reply")
    redis_store.hold_reply(died, reply_id, payload(reply_id))
    redis.Redis.from_url(redis_url).delete(f"{KEY_PREFIX}replies:lease:{died}")
    claimed = redis_store.claim_replies(alive, 50)
    assert payload(reply_id) in claimed
