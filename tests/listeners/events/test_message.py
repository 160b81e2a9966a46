"""Auto-replies: helpful where an error is reported, silent everywhere else."""

from __future__ import annotations

import codecs
import logging
from dataclasses import replace

import pytest

from bot.listeners.events.message import handle_message
from bot.listeners.files import MAX_FILE_BYTES, is_text_file, trusted_url
from tests.conftest import HUMAN, Bot, event_body, make_settings, message_event
from tests.fake_slack import BOT_TOKEN, BOT_USER_ID

ERROR = "Response: 425 Can't open data connection."
LOG = "Command: STOR report.csv\nResponse: 550 Permission denied.\n"


def deliver(bot: Bot, event: dict, event_id: str | None = None) -> None:
    handle_message(
        event=event, body=event_body(event, event_id), client=bot.client, context=bot.context
    )


def test_an_error_in_an_autoreply_channel_gets_a_thread_reply(bot: Bot) -> None:
    event = message_event(ERROR)
    deliver(bot, event)
    (post,) = bot.fake.posts()
    assert post.body["channel"] == "C0HELP001"
    assert post.body["thread_ts"] == event["ts"]
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")


def test_a_reply_inside_a_thread_stays_in_that_thread(bot: Bot) -> None:
    deliver(bot, message_event(ERROR, thread_ts="1700000200.000100"))
    (post,) = bot.fake.posts()
    assert post.body["thread_ts"] == "1700000200.000100"


def test_the_thread_starter_is_answered_in_their_thread(bot: Bot) -> None:
    event = message_event(ERROR, thread_ts="1700000200.000100", parent_user_id=HUMAN)
    deliver(bot, event)
    assert len(bot.fake.posts()) == 1, "the person who started the thread is still stuck"


def test_someone_helping_in_a_thread_is_never_answered_unasked(bot: Bot) -> None:
    event = message_event(ERROR, thread_ts="1700000200.000100", parent_user_id="U0STARTER")
    deliver(bot, event)
    assert bot.fake.posts() == [], "a helper quoting the error in someone else's thread"


def test_other_channels_are_left_alone(bot: Bot) -> None:
    deliver(bot, message_event(ERROR, channel="C0RANDOM1"))
    assert bot.fake.posts() == []


def test_a_star_turns_auto_replies_on_everywhere(bot: Bot) -> None:
    everywhere = make_settings(bot.fake, ERRDESK_AUTOREPLY_CHANNELS="*")
    bot.context["errdesk"] = replace(bot.services, settings=everywhere)
    deliver(bot, message_event(ERROR, channel="C0RANDOM1"))
    assert len(bot.fake.posts()) == 1


@pytest.mark.parametrize(
    "text",
    [
        "thanks, the upload works now!",
        "lunch at 12?",
        "fix: retry on 425 instead of failing",
        "",
        pytest.param(
            "deploy 425 done",
            marks=pytest.mark.xfail(
                reason="a bare number in a deploy note scores at the threshold (0.953 against "
                "0.953 now): on the shared corpora, decisive findings this weak "
                "are reports as often as not, so the model cannot tell this one from them yet",
                strict=False,
            ),
        ),
    ],
)
def test_messages_without_an_error_worth_explaining_get_no_reply(bot: Bot, text: str) -> None:
    deliver(bot, message_event(text))
    assert bot.fake.posts() == []


def decision_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "errdesk.decision"]


def test_a_reply_logs_its_decision_with_probability_threshold_and_features(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    event = message_event(ERROR)
    with caplog.at_level(logging.INFO, logger="errdesk.decision"):
        deliver(bot, event)
    (record,) = decision_lines(caplog)
    line = record.getMessage()
    assert f"C0HELP001:{event['ts']}: replied, ftp 425" in line, line
    threshold = bot.services.engine.model.threshold
    assert f"threshold {threshold:.3f}" in line, f"the threshold it was weighed against: {line}"
    assert record.reply is True, "the reply is a field of the JSON log line too"
    assert 0 < record.probability <= 1, record.probability
    assert "Can't open data connection" not in line, "the message's text is never logged"


def test_an_error_left_unanswered_logs_why(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    event = message_event(ERROR, thread_ts="1700000200.000100", parent_user_id="U0STARTER")
    with caplog.at_level(logging.INFO, logger="errdesk.decision"):
        deliver(bot, event)
    (record,) = decision_lines(caplog)
    line = record.getMessage()
    assert "no reply, ftp 425 (a rule decided: in a thread, only its starter" in line, line
    assert f"{event['ts']} in thread 1700000200.000100:" in line, f"the thread it sits in: {line}"
    assert record.thread_ts == "1700000200.000100", "a field of the JSON line too"


def test_a_code_explained_in_the_thread_already_logs_no_reply(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    first = message_event(LOG)
    deliver(bot, first)
    again = message_event(f"and again: {LOG}", thread_ts=first["ts"])
    with caplog.at_level(logging.INFO, logger="errdesk.decision"):
        deliver(bot, again)
    (record,) = decision_lines(caplog)
    assert "no reply, the code was explained in this thread already" in record.getMessage()
    assert (record.reply, record.outcome) == (False, "already_explained"), (
        "the line says what became of the decision, not what the model wanted"
    )


def test_a_message_without_an_error_logs_no_decision(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="errdesk.decision"):
        deliver(bot, message_event("lunch at 12?"))
    assert decision_lines(caplog) == [], "nothing was found, so nothing was decided"


def test_a_link_preview_is_not_read_as_what_the_poster_says(bot: Bot) -> None:
    preview = {"title": "FTP 425 explained", "text": ERROR, "from_url": "https://example.com"}
    deliver(bot, message_event("good read on passive mode", attachments=[preview]))
    assert bot.fake.posts() == [], "an unfurled page's words are not an error someone met"


@pytest.mark.parametrize(
    "fields",
    [
        {"bot_id": "B0OTHER01"},
        {"subtype": "bot_message", "bot_id": "B0OTHER01", "user": None},
        {"user": BOT_USER_ID},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
        {"subtype": "thread_broadcast"},
        {"subtype": "message_replied"},
    ],
    ids=["bot", "bot_message", "itself", "edit", "delete", "join", "broadcast", "replied"],
)
def test_bots_itself_and_other_subtypes_are_never_answered(bot: Bot, fields: dict) -> None:
    deliver(bot, message_event(ERROR, **fields))
    assert bot.fake.posts() == []


def test_a_retried_event_is_answered_once(bot: Bot) -> None:
    event = message_event(ERROR)
    deliver(bot, event, event_id="EvRETRY001")
    deliver(bot, event, event_id="EvRETRY001")
    assert len(bot.fake.posts()) == 1


def test_a_message_that_mentions_the_bot_is_left_to_app_mention(bot: Bot) -> None:
    deliver(bot, message_event(f"<@{BOT_USER_ID}> {ERROR}"))
    assert bot.fake.posts() == []


def test_the_same_code_is_not_explained_twice_in_one_thread(bot: Bot) -> None:
    first = message_event(ERROR)
    deliver(bot, first)
    deliver(bot, message_event(f"again: {ERROR}", thread_ts=first["ts"]))
    assert len(bot.fake.posts()) == 1
    deliver(bot, message_event(LOG, thread_ts=first["ts"]))  # another code: explained
    deliver(bot, message_event(ERROR))  # another thread: explained
    assert len(bot.fake.posts()) == 3


def test_a_shared_log_file_is_fetched_with_the_bot_token_and_triaged(bot: Bot) -> None:
    bot.fake.add_file("F0LOG0001", LOG.encode())
    event = message_event("upload fails, log attached", subtype="file_share")
    event["files"] = [{"id": "F0LOG0001", "name": "F0LOG0001.log"}]
    deliver(bot, event)
    (info,) = bot.fake.calls_to("files.info")
    assert info.body["file"] == "F0LOG0001"
    (download,) = bot.fake.calls_to("files/F0LOG0001")
    assert download.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    (post,) = bot.fake.posts()
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 550")
    assert post.body["thread_ts"] == event["ts"]
    assert "upload" in post.text.lower()  # the advice for a failed STOR comes first


def test_files_too_large_binary_or_off_slack_are_not_downloaded(bot: Bot) -> None:
    bot.fake.add_file("F0BIG0001", b"x", size=MAX_FILE_BYTES + 1)
    bot.fake.add_file("F0PNG0001", b"x", name="shot.png", mimetype="image/png", filetype="png")
    bot.fake.add_file("F0EVIL001", LOG.encode(), url_private="https://evil.example/f")
    event = message_event("see attached", subtype="file_share")
    event["files"] = [{"id": "F0BIG0001"}, {"id": "F0PNG0001"}, {"id": "F0EVIL001"}]
    deliver(bot, event)
    assert len(bot.fake.calls_to("files.info")) == 3
    assert not [c for c in bot.fake.calls if c.method.startswith("files/")]
    assert bot.fake.posts() == []


def test_a_file_larger_than_announced_is_dropped_after_the_limit(bot: Bot) -> None:
    bot.fake.add_file("F0LIAR001", LOG.encode() * (MAX_FILE_BYTES // len(LOG) + 1), size=10)
    event = message_event("log", subtype="file_share")
    event["files"] = [{"id": "F0LIAR001"}]
    deliver(bot, event)
    assert len(bot.fake.calls_to("files/F0LIAR001")) == 1
    assert bot.fake.posts() == []


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-32"], ids=["utf16", "be", "bom", "32"]
)
def test_windows_text_files_are_decoded(bot: Bot, encoding: str) -> None:
    content = LOG.encode(encoding)
    if encoding == "utf-16-be":
        content = codecs.BOM_UTF16_BE + content
    bot.fake.add_file("F0WIN0001", content, name="ftp.log")
    event = message_event("log from PowerShell", subtype="file_share")
    event["files"] = [{"id": "F0WIN0001"}]
    deliver(bot, event)
    (post,) = bot.fake.posts()
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 550")


@pytest.mark.parametrize("size", ["unknown", None, "", [1], True, 12.5], ids=repr)
def test_a_file_whose_size_is_not_a_number_is_still_read(bot: Bot, size: object) -> None:
    bot.fake.add_file("F0ODD0001", LOG.encode(), size=size)
    event = message_event("log", subtype="file_share")
    event["files"] = [{"id": "F0ODD0001"}]
    deliver(bot, event)
    (post,) = bot.fake.posts()
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 550")


def test_a_file_of_unknown_size_is_still_bounded_by_the_limit(bot: Bot) -> None:
    big = LOG.encode() * (MAX_FILE_BYTES // len(LOG) + 1)
    bot.fake.add_file("F0ODD0002", big, size="unknown")
    event = message_event("log", subtype="file_share")
    event["files"] = [{"id": "F0ODD0002"}]
    deliver(bot, event)
    assert len(bot.fake.calls_to("files/F0ODD0002")) == 1
    assert bot.fake.posts() == []


def test_text_file_detection_and_trusted_hosts() -> None:
    assert is_text_file({"name": "ftp.LOG"})
    assert is_text_file({"mimetype": "text/plain"})
    assert is_text_file({"mode": "snippet", "filetype": "python"})
    assert not is_text_file({"name": "x.zip", "mimetype": "application/zip"})
    api = "https://slack.com/api/"
    assert trusted_url("https://files.slack.com/files-pri/T1-F1/x.log", api)
    assert not trusted_url("http://files.slack.com/x.log", api)
    assert not trusted_url("https://files.slack.com.evil.example/x.log", api)
    assert trusted_url("http://127.0.0.1:5000/files/F1", "http://127.0.0.1:5000/api/")
    assert not trusted_url("http://127.0.0.1:5001/files/F1", "http://127.0.0.1:5000/api/")


def test_a_post_slack_refuses_does_not_silence_the_thread(bot: Bot) -> None:
    failure = {"error": "channel_not_found"}
    bot.fake.fail("chat.postMessage", **failure)
    event = message_event(ERROR)
    deliver(bot, event, event_id="EvLOST0001")
    assert bot.fake.posts() == []
    deliver(bot, event, event_id="EvLOST0001")  # Slack's retry of the same event
    (post,) = bot.fake.posts()
    assert post.body["thread_ts"] == event["ts"]

    bot.fake.fail("chat.postMessage", **failure)
    again = message_event(f"still: {LOG}", thread_ts=event["ts"])
    deliver(bot, again)
    assert len(bot.fake.posts()) == 1
    later = message_event(f"and again: {LOG}", thread_ts=event["ts"])
    deliver(bot, later)  # the next message with the same code in that thread
    assert len(bot.fake.posts()) == 2
    assert bot.fake.posts()[1].body["blocks"][0]["text"]["text"].startswith("FTP 550")


def test_a_post_answered_with_a_5xx_is_posted_by_a_later_attempt_and_once(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", status=503)
    event = message_event(ERROR)
    deliver(bot, event, event_id="EvLOST0002")
    deliver(bot, event, event_id="EvLOST0002")  # Slack's retry: the reply is on its way already
    (post,) = bot.fake.wait_for(bot.fake.posts)
    bot.fake.wait_for(lambda: bot.services.outbox.pending() == 0)
    assert post.body["thread_ts"] == event["ts"]
    (lookup,) = bot.fake.calls_to("conversations.replies", ok_only=False)
    assert lookup.body["include_all_metadata"], "a 5xx may have posted it: look before posting"
    assert len(bot.fake.posts()) == 1
