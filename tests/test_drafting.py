"""A draft of a site's labelled messages from errdesk's log: the messages asked about after the
auto-reply stayed quiet, and the replies voted on, read again from Slack in the corpus format."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.drafting import DECISION_LOGGER, FEEDBACK_LOGGER, labels_from_log
from bot.evaluation import load_cases
from bot.listeners.actions.feedback import handle_feedback
from bot.listeners.events.message import handle_message
from bot.listeners.shortcuts.explain_message import handle_explain_message
from bot.logging_setup import JsonLines
from bot.render.blocks import ACTION_NOT_IT
from tests.conftest import Bot, action_payload, event_body, message_event, shortcut_payload
from tests.fake_slack import BOT_TOKEN

REPORT = "Response: 425 Can't open data connection."
TALK = "We changed the upload code so a 425 from the server is retried once."


def decision(ts: str, *, reply: bool, asked_after_silence: bool = False, **fields: Any) -> str:
    record = {
        "logger": DECISION_LOGGER,
        "channel": "C1",
        "ts": ts,
        "thread_ts": ts,
        "entry": "ftp 425",
        "reply": reply,
        "asked_after_silence": asked_after_silence,
        **fields,
    }
    return json.dumps(record)


def vote(thread_ts: str, helpful: int, not_it: int, entry: str = "ftp 425") -> str:
    record = {
        "logger": FEEDBACK_LOGGER,
        "channel": "C1",
        "thread_ts": thread_ts,
        "entry": entry,
        "votes": {"helpful": helpful, "not_it": not_it},
    }
    return json.dumps(record)


def test_a_message_asked_about_after_silence_is_drafted_as_wanting_a_reply() -> None:
    (label,) = labels_from_log([decision("1.1", reply=False, asked_after_silence=True)]).labels
    assert label.expect_reply, "someone wanted it explained: most likely a missed report"
    assert (label.ts, label.entry) == ("1.1", "ftp 425"), label


def test_a_reply_voted_not_it_is_drafted_as_wanting_none() -> None:
    (label,) = labels_from_log([decision("2.2", reply=True), vote("2.2", 0, 2)]).labels
    assert not label.expect_reply, "the people who voted say the reply was not wanted"
    assert label.ts == "2.2", "the message the reply answered, named by its decision's line"
    assert "Not it 2 to 0" in label.drawn_from, label.drawn_from


def test_a_reply_voted_helpful_is_drafted_as_wanting_one() -> None:
    (label,) = labels_from_log([decision("3.3", reply=True), vote("3.3", 2, 1)]).labels
    assert label.expect_reply, label


def test_the_last_tally_of_a_reply_is_the_one_drafted() -> None:
    lines = [decision("4.4", reply=True), vote("4.4", 1, 0), vote("4.4", 1, 2)]
    (label,) = labels_from_log(lines).labels
    assert not label.expect_reply, "a later vote line holds the tally as it ended"


def test_a_tied_vote_is_passed_over_and_counted() -> None:
    drafted = labels_from_log([decision("5.5", reply=True), vote("5.5", 1, 1)])
    assert drafted.labels == [], "a tie suggests no label"
    assert drafted.tied_votes == 1, drafted


def test_a_vote_whose_decision_is_not_in_the_log_is_passed_over_and_counted() -> None:
    drafted = labels_from_log([vote("6.6", 0, 1)])
    assert drafted.labels == [], "without its decision, the message voted on is unknown"
    assert drafted.unmatched_votes == 1, drafted


def test_a_vote_on_another_code_of_the_thread_is_not_this_decisions() -> None:
    drafted = labels_from_log([decision("7.7", reply=True), vote("7.7", 0, 1, "ftp 550")])
    assert drafted.labels == [], "a code is explained once a thread: the codes must agree"


def test_lines_that_are_not_errdesk_decisions_or_votes_are_skipped() -> None:
    lines = [
        "2026-01-05 10:12:03,114 INFO bot.requests: handled mention: replied in 41.7 ms",
        '{"logger": "bot.requests", "kind": "mention", "outcome": "replied"}',
        "{not json",
        "[1, 2]",
        json.dumps({"logger": FEEDBACK_LOGGER, "channel": "C1", "entry": "ftp 425"}),
        vote("8.8", "two", None),  # type: ignore[arg-type]  # a log edited by hand
    ]
    drafted = labels_from_log(lines)
    assert drafted.labels == [], drafted
    assert drafted.unmatched_votes == 1, "the vote with a thread counts, whatever its tally"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=DECISION_LOGGER)
    caplog.set_level(logging.INFO, logger=FEEDBACK_LOGGER)
    return caplog


def as_json_log(caplog: pytest.LogCaptureFixture, path: Path) -> Path:
    """The captured lines, written as errdesk writes them with ERRDESK_LOG_FORMAT=json."""
    formatter = JsonLines()
    path.write_text("".join(formatter.format(r) + "\n" for r in caplog.records), "utf-8")
    return path


def test_errdesk_model_draft_writes_the_logged_messages_as_a_labelled_corpus(
    bot: Bot, logged: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report, talk = message_event(REPORT), message_event(TALK)
    for message in (report, talk):
        bot.fake.add_thread("C0HELP001", message["ts"], [message])
    handle_message(event=report, body=event_body(report), client=bot.client, context=bot.context)
    reply = bot.fake.messages["C0HELP001"][-1]
    voted = action_payload(
        ACTION_NOT_IT, "ftp 425", bot.fake.response_url("vote"), channel="C0HELP001", message=reply
    )
    bot.act(handle_feedback, voted)
    picked = shortcut_payload(
        TALK, bot.fake.response_url("picked"), channel="C0HELP001", ts=talk["ts"]
    )
    handle_explain_message(ack=bot.ack, shortcut=picked, client=bot.client, context=bot.context)
    log = as_json_log(logged, tmp_path / "errdesk.log")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", bot.fake.api_url)
    out = tmp_path / "draft.jsonl"
    assert main(["model", "draft", str(log), "--out", str(out)]) == 0
    cases = {case.text: case for case in load_cases(out)}
    assert set(cases) == {REPORT, TALK}, f"both messages read again from Slack: {cases}"
    assert not cases[REPORT].expect_reply, "its reply was voted Not it"
    assert cases[TALK].expect_reply, "asked about after the auto-reply stayed quiet"
    assert cases[TALK].target == ("ftp", "425"), cases[TALK]
    assert cases[TALK].source != cases[REPORT].source, "each message is its own thread"


def test_a_logged_message_no_longer_in_slack_is_passed_over(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "errdesk.log"
    log.write_text(decision("1700000001.000100", reply=False, asked_after_silence=True) + "\n")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", bot.fake.api_url)
    out = tmp_path / "draft.jsonl"
    assert main(["model", "draft", str(log), "--out", str(out)]) == 0
    assert out.read_text("utf-8") == "", "a deleted message has no text to label"
    assert "passed over: 1 no longer readable" in capsys.readouterr().out


def test_errdesk_model_draft_without_a_bot_token_says_what_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    log = tmp_path / "errdesk.log"
    log.write_text("", "utf-8")
    assert main(["model", "draft", str(log), "--out", str(tmp_path / "draft.jsonl")]) == 2
    assert "set SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_errdesk_model_draft_on_a_missing_log_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    missing = tmp_path / "nope.log"
    assert main(["model", "draft", str(missing), "--out", str(tmp_path / "draft.jsonl")]) == 2
    error = capsys.readouterr().err
    assert f"{missing}: cannot be read" in error, error
    assert "Traceback" not in error, error
