"""A draft of a site's labelled messages from errdesk's log: the messages asked about after the
auto-reply stayed quiet, and the replies voted on, read again from Slack in the corpus format."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.drafting import DECISION_LOGGER, FEEDBACK_LOGGER, corpus_line, labels_from_log
from bot.evaluation import load_cases
from bot.listeners.actions.feedback import handle_feedback
from bot.listeners.events.message import handle_message
from bot.listeners.shortcuts.explain_message import handle_explain_message
from bot.logging_setup import JsonLines
from bot.render.blocks import ACTION_NOT_IT
from tests.conftest import Bot, action_payload, event_body, message_event, shortcut_payload
from tests.fake_slack import BOT_TOKEN
from tests.listeners.actions.test_feedback import button_value

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


def vote(ts: str, helpful: int, not_it: int, entry: str = "ftp 425", reply_ts: str = "9.9") -> str:
    """A vote's line on the reply (at `reply_ts`) to the message at `ts`, which started its
    thread."""
    record = {
        "logger": FEEDBACK_LOGGER,
        "channel": "C1",
        "reply_ts": reply_ts,
        "ts": ts,
        "thread_ts": ts,
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


def test_a_vote_on_another_code_is_not_this_decisions() -> None:
    drafted = labels_from_log([decision("7.7", reply=True), vote("7.7", 0, 1, "ftp 550")])
    assert drafted.labels == [], "the vote judged another reply: the codes must agree"


def test_a_vote_joins_the_decision_that_replied_not_a_later_one_that_did_not() -> None:
    lines = [
        decision("7.8", reply=True),
        decision("7.8", reply=False, outcome="duplicate"),  # Slack's retry, answered already
        vote("7.8", 2, 0),
    ]
    (label,) = labels_from_log(lines).labels
    assert label.expect_reply, label
    assert label.ts == "7.8", label


def test_a_vote_on_a_reply_in_a_thread_labels_the_message_it_explained() -> None:
    inside = decision("7.92", reply=True, thread_ts="7.9")
    tally = json.loads(vote("7.92", 0, 3))
    (label,) = labels_from_log([inside, json.dumps({**tally, "thread_ts": "7.9"})]).labels
    assert (label.thread_ts, label.ts) == ("7.9", "7.92"), label
    assert not label.expect_reply, label


def test_votes_on_two_replies_to_one_message_are_passed_over_and_counted() -> None:
    lines = [
        decision("7.95", reply=True),
        vote("7.95", 3, 0, reply_ts="7.96"),  # the auto-reply
        vote("7.95", 0, 1, reply_ts="7.97"),  # a mention's answer on the same message
    ]
    drafted = labels_from_log(lines)
    assert drafted.labels == [], "which tally judged the unasked reply is not known"
    assert drafted.several_replies == 1, drafted


def test_a_miss_logged_where_a_rule_decided_is_no_label() -> None:
    line = decision("7.99", reply=False, asked_after_silence=True, rule="a rule decided")
    assert labels_from_log([line]).labels == [], "no label changes what a rule decides"


def test_lines_naming_no_message_are_passed_over_and_counted() -> None:
    lines = [
        decision("", reply=False, asked_after_silence=True),
        decision("8.1", reply=True, entry=["ftp", 425]),
        decision("8.2", reply=True, channel=None),
    ]
    drafted = labels_from_log(lines)
    assert drafted.labels == [], drafted
    assert drafted.unnamed_lines == 3, drafted


def test_a_line_nested_deeper_than_json_reads_is_skipped() -> None:
    deep = '{"logger": ' + "[" * 100_000 + "]" * 100_000 + "}"
    drafted = labels_from_log([deep, decision("8.3", reply=False, asked_after_silence=True)])
    assert [label.ts for label in drafted.labels] == ["8.3"], drafted


def test_a_drafted_message_has_its_credentials_masked() -> None:
    label = labels_from_log([decision("8.4", reply=False, asked_after_silence=True)]).labels[0]
    line = corpus_line(label, "Command: PASS hunter22\nResponse: 530 Login incorrect.")
    assert "hunter22" not in line["text"], line["text"]
    assert "530 Login incorrect." in line["text"], "the rest of the message stays as it was"


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
    assert drafted.unmatched_votes == 1, "the vote naming a message counts, whatever its tally"
    assert drafted.unnamed_lines == 1, "the vote naming no message is counted apart"


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


def vote_not_it_on_the_reply_to(bot: Bot, event: dict[str, Any]) -> dict[str, Any]:
    """Deliver `event` to the auto-reply, then vote Not it on its reply with the button's
    value; the reply."""
    handle_message(event=event, body=event_body(event), client=bot.client, context=bot.context)
    reply = bot.fake.messages[event["channel"]][-1]
    voted = action_payload(
        ACTION_NOT_IT,
        button_value(reply["blocks"], ACTION_NOT_IT),
        bot.fake.response_url("vote"),
        channel=event["channel"],
        message=reply,
    )
    bot.act(handle_feedback, voted)
    return reply


def test_errdesk_model_draft_writes_the_logged_messages_as_a_labelled_corpus(
    bot: Bot, logged: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report, talk = message_event(REPORT), message_event(TALK)
    for message in (report, talk):
        bot.fake.add_thread("C0HELP001", message["ts"], [message])
    vote_not_it_on_the_reply_to(bot, report)
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
    assert "passed over: 1 deleted since" in capsys.readouterr().out


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


def draft(bot: Bot, log: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """`errdesk model draft LOG --out OUT` against the fake Slack; its exit status."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", bot.fake.api_url)
    return main(["model", "draft", str(log), "--out", str(out)])


def test_a_vote_on_a_thread_reply_drafts_the_message_it_explained(
    bot: Bot, logged: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starter = message_event("uploads keep failing since this morning")
    report = message_event(REPORT, thread_ts=starter["ts"], parent_user_id=starter["user"])
    bot.fake.add_thread("C0HELP001", starter["ts"], [starter, report])
    reply = vote_not_it_on_the_reply_to(bot, report)
    assert reply.get("thread_ts") == starter["ts"], "errdesk replied in the thread"
    out = tmp_path / "draft.jsonl"
    assert draft(bot, as_json_log(logged, tmp_path / "errdesk.log"), out, monkeypatch) == 0
    (case,) = load_cases(out)
    assert case.text == REPORT, "the message the reply explained, not the thread's starter"
    assert not case.expect_reply, case
    assert case.source == f"slack:C0HELP001/{starter['ts']}#{report['ts']}", case.source


def test_messages_slack_refuses_to_read_are_counted_by_reason(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bot.fake.fail("conversations.replies", error="not_in_channel")
    log = tmp_path / "errdesk.log"
    log.write_text(decision("1700000002.000100", reply=False, asked_after_silence=True) + "\n")
    assert draft(bot, log, tmp_path / "draft.jsonl", monkeypatch) == 1, "a partial draft"
    captured = capsys.readouterr()
    assert "0 deleted since" in captured.out, "a refusal is not a deletion"
    assert "refused to let the bot read 1 message(s) (not_in_channel 1)" in captured.err


def test_a_draft_into_a_missing_folder_is_one_clear_error(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "errdesk.log"
    log.write_text("", "utf-8")
    out = tmp_path / "nowhere" / "draft.jsonl"
    assert draft(bot, log, out, monkeypatch) == 2
    error = capsys.readouterr().err
    assert f"--out {out}: its folder does not exist" in error, error


def test_a_log_in_the_text_format_is_said_to_hold_no_decisions(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "errdesk.log"
    log.write_text("2026-01-05 10:12:03,114 INFO errdesk.decision: Auto-reply decision on\n")
    assert draft(bot, log, tmp_path / "draft.jsonl", monkeypatch) == 0
    assert "ERRDESK_LOG_FORMAT=json" in capsys.readouterr().err


def test_a_deleted_message_left_as_a_tombstone_in_its_thread_is_passed_over(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ts = "1700000003.000100"
    tombstone = {
        "type": "message",
        "subtype": "tombstone",
        "text": "This message was deleted.",
        "ts": ts,
        "thread_ts": ts,
        "hidden": True,
    }
    bot.fake.add_thread("C1", ts, [tombstone])
    log = tmp_path / "errdesk.log"
    log.write_text(decision(ts, reply=False, asked_after_silence=True) + "\n")
    out = tmp_path / "draft.jsonl"
    assert draft(bot, log, out, monkeypatch) == 0
    assert out.read_text("utf-8") == "", "Slack's placeholder is not the message"
    assert "passed over: 1 deleted since" in capsys.readouterr().out


def test_a_message_whose_file_slack_refuses_now_is_counted_as_refused(
    bot: Bot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ts = "1700000004.000100"
    shared = {
        "type": "message",
        "subtype": "file_share",
        "user": "U0HUMAN01",
        "text": "",
        "ts": ts,
        "files": [{"id": "F0DRAFT01", "name": "upload.log"}],
    }
    bot.fake.add_file("F0DRAFT01", REPORT.encode())
    bot.fake.add_thread("C1", ts, [shared])
    bot.fake.fail("files.info", error="missing_scope")
    log = tmp_path / "errdesk.log"
    log.write_text(decision(ts, reply=False, asked_after_silence=True) + "\n")
    out = tmp_path / "draft.jsonl"
    assert draft(bot, log, out, monkeypatch) == 1
    captured = capsys.readouterr()
    assert "0 deleted since" in captured.out, "the message is there; its file is out of reach"
    assert "(missing_scope 1)" in captured.err, captured.err
    assert out.read_text("utf-8") == "", "not the message errdesk decided on"
