"""Shared files: binary content told from text by its first bytes, and one message's text
capped, with what was left out said."""

from __future__ import annotations

import codecs
import os

from slack_sdk.web import WebClient

from bot.listeners.files import MAX_FILE_BYTES, SharedText, looks_binary, shared_text
from tests.fake_slack import BOT_TOKEN, FakeSlack

LOG = b"Command: STOR a.csv\nResponse: 553 File name not allowed.\n"


def read(fake: FakeSlack, *file_ids: str, budget: int = 1_500_000) -> SharedText:
    client = WebClient(token=BOT_TOKEN, base_url=fake.api_url)
    return shared_text(client, [{"id": file_id} for file_id in file_ids], fake.api_url, budget)


def test_text_in_any_encoding_errdesk_reads_is_not_binary() -> None:
    assert not looks_binary(LOG)
    assert not looks_binary("Réponse : 550 Accès refusé\n".encode())
    assert not looks_binary(LOG.decode().encode("utf-16"))
    assert not looks_binary(codecs.BOM_UTF8 + LOG)
    assert not looks_binary(b"\x1b[31mError:\x1b[0m 530 Login incorrect\r\n")


def test_random_bytes_nuls_and_latin_junk_are_binary() -> None:
    assert looks_binary(os.urandom(8192))
    assert looks_binary(b"PK\x03\x04" + b"\x00" * 100)
    assert looks_binary(bytes(range(128, 256)) * 4)


def test_a_binary_file_is_left_after_its_first_bytes_and_named(fake_slack: FakeSlack) -> None:
    fake_slack.add_file("F0BIN0001", os.urandom(MAX_FILE_BYTES - 10), name="core.log")
    shared = read(fake_slack, "F0BIN0001")
    assert shared.texts == []
    assert shared.notes == ["core.log: not text (binary content), skipped"]


def test_a_file_beyond_the_budget_is_read_by_its_end(fake_slack: FakeSlack) -> None:
    fake_slack.add_file("F0BIG0001", b"Status: listing...\n" * 500 + LOG, name="big.log")
    shared = read(fake_slack, "F0BIG0001", budget=len(LOG) + 10)
    (text,) = shared.texts
    assert text.endswith("553 File name not allowed.\n")
    assert len(text) <= len(LOG) + 10
    assert shared.notes == ["big.log: only its last 1 KB read"]


def test_files_after_the_budget_is_spent_are_named_not_read(fake_slack: FakeSlack) -> None:
    fake_slack.add_file("F0ONE0001", LOG, name="one.log")
    fake_slack.add_file("F0TWO0001", LOG, name="two.log")
    shared = read(fake_slack, "F0ONE0001", "F0TWO0001", budget=len(LOG))
    assert len(shared.texts) == 1
    assert shared.notes == ["two.log: not read, the message's limit was reached"]
    assert not fake_slack.calls_to("files/F0TWO0001")
