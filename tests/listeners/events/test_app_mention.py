"""@mentions: always answered in the thread, never silence, never twice."""

from __future__ import annotations

import pytest

from bot import metrics
from bot.listeners.events.app_mention import handle_app_mention
from tests.conftest import Bot, event_body, mention_event
from tests.fake_slack import BOT_ID, BOT_USER_ID


def mention(bot: Bot, event: dict, event_id: str | None = None) -> None:
    handle_app_mention(
        event=event, body=event_body(event, event_id), client=bot.client, context=bot.context
    )


def test_a_mention_is_answered_in_a_thread_of_its_own(bot: Bot) -> None:
    event = mention_event("what does 425 Can't open data connection mean?")
    mention(bot, event)
    (post,) = bot.fake.posts()
    assert post.body["thread_ts"] == event["ts"]
    assert post.body["channel"] == event["channel"]
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")


def test_a_mention_inside_a_thread_replies_in_that_thread(bot: Bot) -> None:
    event = mention_event("ECONNRESET", thread_ts="1700000000.000001")
    mention(bot, event)
    (post,) = bot.fake.posts()
    assert post.body["thread_ts"] == "1700000000.000001"


def test_a_mention_can_ask_the_way_errcode_does(bot: Bot) -> None:
    mention(bot, mention_event("sftp 3"))
    mention(bot, mention_event("connection reset"))
    mention(bot, mention_event("list ftp 5xx"))
    headers = [post.body["blocks"][0]["text"]["text"] for post in bot.fake.posts()]
    assert headers[0].startswith("SFTP 3:")
    assert headers[1].startswith("WINSOCK 10054:")
    assert headers[2].startswith("list ftp 5xx:")


def test_the_mention_itself_is_not_read_as_text(bot: Bot) -> None:
    event = mention_event("")
    event["text"] = f"<@{BOT_USER_ID}|errdesk>"
    mention(bot, event)
    (post,) = bot.fake.posts()
    assert "/errcode" in post.text  # nothing found, and nothing made of the user id


def test_a_bare_mention_in_a_thread_explains_the_first_message(bot: Bot) -> None:
    root = "1700000100.000100"
    bot.fake.add_thread(
        "C0OTHER01",
        root,
        [
            {
                "type": "message",
                "user": "U0HUMAN02",
                "ts": root,
                "text": "Error: 530 Login incorrect.",
            }
        ],
    )
    mention(bot, mention_event("what does this mean?", thread_ts=root))
    (replies,) = bot.fake.calls_to("conversations.replies")
    assert replies.body["ts"] == root
    assert replies.body["channel"] == "C0OTHER01"
    (post,) = bot.fake.posts()
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 530")
    assert post.body["thread_ts"] == root


def test_nothing_found_anywhere_still_gets_a_reply_saying_how_to_ask(bot: Bot) -> None:
    before = metrics.UNRECOGNIZED.labels(kind="mention")._value.get()
    mention(bot, mention_event("hello there, how are you?"))
    (post,) = bot.fake.posts()
    assert "could not find" in post.text
    assert "/errcode 425" in post.text
    assert metrics.UNRECOGNIZED.labels(kind="mention")._value.get() == before + 1


def test_the_same_event_delivered_twice_is_answered_once(bot: Bot) -> None:
    event = mention_event("425")
    mention(bot, event, event_id="EvTWICE01")
    mention(bot, event, event_id="EvTWICE01")
    assert len(bot.fake.posts()) == 1


def test_mentions_from_bots_are_ignored(bot: Bot) -> None:
    mention(bot, mention_event("425", bot_id="B0OTHER01"))
    mention(bot, mention_event("425", user=BOT_USER_ID))
    assert bot.fake.posts() == []


def test_a_secret_in_the_mention_is_called_out_privately_and_never_repeated(bot: Bot) -> None:
    event = mention_event("Command: PASS hunter22\nResponse: 530 Login incorrect.")
    mention(bot, event)
    (post,) = bot.fake.posts()
    (warning,) = bot.fake.calls_to("chat.postEphemeral")
    assert warning.body["user"] == event["user"]
    assert "Delete the message" in warning.body["text"]
    assert "Delete the message" not in post.text, "the public reply points at the secret"
    assert "hunter22" not in post.text


def test_a_channel_error_is_counted_not_raised(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", error="channel_not_found")
    counter = metrics.SLACK_API_ERRORS.labels(method="chat.postMessage", error="channel_not_found")
    before = counter._value.get()
    mention(bot, mention_event("425"))
    assert counter._value.get() == before + 1
    assert bot.fake.posts() == []


def test_a_message_event_for_the_same_mention_does_not_answer_again(bot: Bot) -> None:
    from bot.listeners.events.message import handle_message

    event = mention_event("425 Can't open data connection", channel="C0HELP001")
    as_message = {**event, "type": "message", "channel_type": "channel"}
    handle_message(
        event=as_message, body=event_body(as_message), client=bot.client, context=bot.context
    )
    mention(bot, event)
    assert len(bot.fake.posts()) == 1
    assert BOT_ID  # the fake's bot is who answered


def test_help_outside_a_thread_says_how_to_ask(bot: Bot) -> None:
    mention(bot, mention_event("help"))
    (post,) = bot.fake.posts()
    assert "Ask errdesk about a file-transfer or network error" in post.text
    assert "could not find" not in post.text


def thread_about_530(bot: Bot, root: str) -> None:
    """A thread in C0OTHER01 whose first message reports an FTP 530."""
    first = {
        "type": "message",
        "user": "U0HUMAN02",
        "ts": root,
        "text": "Error: 530 Login incorrect.",
    }
    bot.fake.add_thread("C0OTHER01", root, [first])


def test_help_in_a_thread_explains_the_first_message(bot: Bot) -> None:
    root = "1700000100.000200"
    thread_about_530(bot, root)
    mention(bot, mention_event("help", thread_ts=root))
    (post,) = bot.fake.posts()
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 530")
    assert post.body["thread_ts"] == root


def test_an_error_in_the_mention_itself_comes_before_the_thread(bot: Bot) -> None:
    root = "1700000100.000300"
    thread_about_530(bot, root)
    mention(bot, mention_event("and now: 425 Can't open data connection", thread_ts=root))
    (post,) = bot.fake.posts()
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")
    assert bot.fake.calls_to("conversations.replies") == []


def test_a_secret_in_a_mention_with_nothing_found_is_called_out_privately(bot: Bot) -> None:
    mention(bot, mention_event("can you check ftp://bob:hunter22@files.example.com"))
    (post,) = bot.fake.posts()
    (warning,) = bot.fake.calls_to("chat.postEphemeral")
    assert "could not find" in post.text
    assert "Delete the message" in warning.body["text"]
    assert "hunter22" not in post.text


def test_a_mention_whose_reply_failed_is_answered_on_retry(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", error="channel_not_found")
    event = mention_event("425")
    mention(bot, event, event_id="EvLOST0002")
    assert bot.fake.posts() == []
    mention(bot, event, event_id="EvLOST0002")
    (post,) = bot.fake.posts()
    assert post.body["thread_ts"] == event["ts"]


@pytest.mark.usefixtures("broken_engine")
def test_a_failure_on_our_side_is_said_in_the_thread_without_its_details(bot: Bot) -> None:
    event = mention_event("425", thread_ts="1700000100.000400")
    mention(bot, event)
    (post,) = bot.fake.posts()
    assert post.body["thread_ts"] == "1700000100.000400"
    assert "Something went wrong on my side" in post.text
    assert "hunter22" not in post.text
    assert "RuntimeError" not in post.text
