"""One message's work is bounded: binary files shared as .log are recognised and skipped, the
text read per message is capped, and the reply says what was left out."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import event_body, message_event
from tests.e2e.servers import ServerProcess, SlackSender, serve_env, serving
from tests.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

MEGABYTE = 1_000_000
LOG = b"Command: STOR a.csv\nResponse: 553 File name not allowed.\n"


@pytest.fixture(scope="module")
def server(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("bounded") / "serve.log"
    with serving(serve_env(fake), log) as process:
        yield process


@pytest.fixture(scope="module")
def slack(server: ServerProcess) -> SlackSender:
    return SlackSender(server.url)


def share(slack: SlackSender, text: str, *file_ids: str) -> dict:
    event = message_event(text, subtype="file_share")
    event["files"] = [{"id": file_id} for file_id in file_ids]
    slack.event(event_body(event))
    return event


def test_binary_files_shared_as_logs_are_skipped_and_said_so(
    fake: FakeSlack, slack: SlackSender
) -> None:
    for n in range(3):
        fake.add_file(f"F0BIN000{n}", os.urandom(MEGABYTE - 1000), name=f"dump{n}.log")
    event = share(
        slack, "425 Can't open data connection, dumps attached", *(f"F0BIN000{n}" for n in range(3))
    )
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")
    for n in range(3):
        assert f"dump{n}.log" in post.text, f"the reply does not say dump{n}.log was skipped"
    assert "not text" in post.text


def test_text_beyond_the_cap_of_a_message_is_cut_and_said_so(
    fake: FakeSlack, slack: SlackSender
) -> None:
    filler = b"Status: Retrieving directory listing...\n" * (MEGABYTE // 40)
    fake.add_file("F0BIGLOG0", filler[: MEGABYTE - 1000], name="first.log")
    fake.add_file("F0BIGLOG1", filler[: MEGABYTE - 1000 - len(LOG)] + LOG, name="second.log")
    event = share(slack, "transfer logs", "F0BIGLOG0", "F0BIGLOG1")
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 553"), "the end was not read"
    assert "second.log" in post.text, "the reply does not say which file was cut"
