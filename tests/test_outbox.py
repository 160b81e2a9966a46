"""The outbound queue against the fake Slack: order per channel, Retry-After held per channel,
no second post after a lost response, marks released when Slack refuses, and the journal
handing what is left at a stop to another process; a store that fails now and then holds up
neither a channel nor the journal."""

from __future__ import annotations

import itertools
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web import WebClient

from bot import metrics
from bot.outbox import EVENT_TYPE, Outbox, Reply
from bot.render.blocks import Message
from bot.state import MemoryStore, SqliteStore, StateStore
from tests.fake_slack import BOT_TOKEN, FakeSlack

HELLO = Message("hello", [])


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def outbox_on(fake: FakeSlack, store: StateStore, **options: float) -> Outbox:
    client = WebClient(token=BOT_TOKEN, base_url=fake.api_url, retry_handlers=[])
    return Outbox(client, store, **options)


@pytest.fixture
def outbox(fake_slack: FakeSlack, store: MemoryStore) -> Iterator[Outbox]:
    box = outbox_on(fake_slack, store, posts_per_second=20.0)
    yield box
    box.close(0)


def reply(n: int, channel: str = "C0OUT0001", **fields: object) -> Reply:
    thread = f"1700000{n:03d}.000100"
    return Reply.of(f"Ev{channel}{n}", channel, HELLO, thread, **fields)


def outcome(name: str) -> float:
    return metrics.OUTBOX_REPLIES.labels(outcome=name)._value.get()


def test_each_post_names_the_event_it_answers(fake_slack: FakeSlack, outbox: Outbox) -> None:
    assert outbox.send(reply(1)).wait(5) is True
    (post,) = fake_slack.posts()
    assert post.body["metadata"] == {
        "event_type": EVENT_TYPE,
        "event_payload": {"event_id": "EvC0OUT00011"},
    }


def test_queued_replies_go_in_the_order_of_the_messages_they_answer(
    fake_slack: FakeSlack, outbox: Outbox
) -> None:
    fake_slack.rate_limit("C0OUT0001", 1)
    first = outbox.send(reply(0))  # refused with Retry-After: the channel waits
    later = [outbox.send(reply(n)) for n in (5, 3, 4, 1, 2)]
    assert all(delivery.wait(10) for delivery in [first, *later])
    threads = [p.body["thread_ts"] for p in fake_slack.posts()]
    assert threads == [reply(n).thread_ts for n in range(6)]


def test_a_retry_after_holds_only_its_own_channel(fake_slack: FakeSlack, outbox: Outbox) -> None:
    fake_slack.rate_limit("C0HELD001", 30)
    held = outbox.send(reply(1, channel="C0HELD001"))
    assert outbox.send(reply(1, channel="C0FREE001")).wait(5) is True
    assert held.wait(0) is None, "the held channel posted before its Retry-After"
    assert fake_slack.limited("C0HELD001")


def test_a_lost_response_is_looked_for_and_not_posted_again(
    fake_slack: FakeSlack, outbox: Outbox
) -> None:
    found = outcome("found_posted")
    fake_slack.drop_responses("chat.postMessage")
    assert outbox.send(reply(7)).wait(10) is True
    assert len(fake_slack.posts()) == 1
    (lookup,) = fake_slack.calls_to("conversations.replies")
    assert lookup.body["include_all_metadata"]
    assert outcome("found_posted") == found + 1


def test_a_refused_reply_releases_its_marks(fake_slack: FakeSlack, store: MemoryStore) -> None:
    box = outbox_on(fake_slack, store)
    try:
        fake_slack.fail("chat.postMessage", error="channel_not_found")
        store.first_time("replied:C0OUT0001:1", 60)
        assert box.send(reply(1, release=("replied:C0OUT0001:1",))).wait(5) is False
        assert store.first_time("replied:C0OUT0001:1", 60), "the mark was kept"
    finally:
        box.close(0)


def test_a_reply_that_keeps_failing_is_given_up_and_counted(
    fake_slack: FakeSlack, store: MemoryStore
) -> None:
    given_up = outcome("gave_up")
    box = outbox_on(fake_slack, store, max_attempts=2)
    try:
        fake_slack.fail("chat.postMessage", status=500, times=2)
        assert box.send(reply(1)).wait(10) is False
    finally:
        box.close(0)
    assert outcome("gave_up") == given_up + 1
    assert fake_slack.posts() == []


def test_what_is_left_at_a_stop_is_counted_and_posted_by_the_next_process(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    store = SqliteStore.in_folder(tmp_path)
    fake_slack.rate_limit("C0OUT0001", 2)
    leaving = outbox_on(fake_slack, store)
    leaving.send(reply(1))
    assert leaving.close(0) == 1
    assert fake_slack.posts() == []
    taking_over = outbox_on(fake_slack, SqliteStore.in_folder(tmp_path))
    try:
        (post,) = fake_slack.wait_for(fake_slack.posts, timeout=15)
    finally:
        taking_over.close(0)
    assert post.body["thread_ts"] == reply(1).thread_ts


def failing_once(store: SqliteStore, method: str, call: int = 0) -> SqliteStore:
    """`store` with its `method` raising as a full disk (or a lock held past its timeout) does,
    on its `call`th call (from 0) only."""
    real = getattr(store, method)
    calls = itertools.count()

    def flaky(*args: Any) -> Any:
        if next(calls) == call:
            raise sqlite3.OperationalError("database or disk is full")
        return real(*args)

    setattr(store, method, flaky)
    return store


def store_failures(operation: str) -> float:
    return metrics.STATE_STORE_ERRORS.labels(
        operation=operation, error="OperationalError"
    )._value.get()


def test_a_failed_journal_drop_holds_up_neither_the_channel_nor_the_caller(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    box = outbox_on(
        fake_slack, failing_once(SqliteStore.in_folder(tmp_path), "drop_reply"), posts_per_second=20
    )
    try:
        deliveries = [box.send(reply(n)) for n in range(3)]
        assert [d.wait(5) for d in deliveries] == [True, True, True], "a reply was not posted"
    finally:
        box.close(0)
    assert len(fake_slack.posts()) == 3, "the channel stayed busy after the failed drop"


def test_a_failed_journal_write_is_logged_and_counted_by_what_failed_without_the_text(
    fake_slack: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    failed = store_failures("drop_reply")
    box = outbox_on(fake_slack, failing_once(SqliteStore.in_folder(tmp_path), "drop_reply"))
    try:
        with caplog.at_level(logging.WARNING, logger="errdesk"):
            assert box.send(reply(1)).wait(5) is True
    finally:
        box.close(0)
    assert store_failures("drop_reply") == failed + 1
    logged = [r.getMessage() for r in caplog.records if "drop_reply" in r.getMessage()]
    assert logged, f"no log line names the failed call: {caplog.messages}"
    assert all(HELLO.text not in line for line in logged), f"a line holds the text: {logged}"


@pytest.mark.parametrize("failing_hold", [0, 1], ids=["when_queued", "when_retried"])
def test_a_reply_is_posted_when_journalling_it_fails(
    fake_slack: FakeSlack, tmp_path: Path, failing_hold: int
) -> None:
    fake_slack.fail("chat.postMessage", status=500)  # the second hold is the retry's
    store = failing_once(SqliteStore.in_folder(tmp_path), "hold_reply", call=failing_hold)
    box = outbox_on(fake_slack, store)
    try:
        assert box.send(reply(1)).wait(10) is True, "the reply was not posted"
    finally:
        box.close(0)


def test_a_reply_a_failed_drop_left_in_the_journal_is_found_not_posted_again_after_a_restart(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    found = outcome("found_posted")
    stopping = outbox_on(fake_slack, failing_once(SqliteStore.in_folder(tmp_path), "drop_reply"))
    assert stopping.send(reply(1)).wait(5) is True
    assert stopping.close(0) == 0
    taking_over = outbox_on(fake_slack, SqliteStore.in_folder(tmp_path))
    try:
        fake_slack.wait_for(lambda: outcome("found_posted") > found, timeout=15)
    finally:
        taking_over.close(0)
    assert len(fake_slack.posts()) == 1, "the reply was posted again"


def test_the_journal_goes_on_claiming_after_a_failed_lease_refresh(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    store = failing_once(SqliteStore.in_folder(tmp_path), "keep_alive")
    box = outbox_on(fake_slack, store)
    try:
        store.hold_reply("a-process-that-stopped", reply(1).reply_id, reply(1).to_json())
        store.hand_back_replies("a-process-that-stopped")
        (post,) = fake_slack.wait_for(fake_slack.posts, timeout=15)
    finally:
        box.close(0)
    assert post.body["thread_ts"] == reply(1).thread_ts
