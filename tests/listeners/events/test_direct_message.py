"""A direct message to errdesk: each one a question, answered in the conversation."""

from __future__ import annotations

from bot.listeners.events.direct_message import handle_direct_message, is_direct
from tests.conftest import Bot, event_body, message_event
from tests.fake_slack import BOT_USER_ID

DM = "D0HUMAN01"
ERROR = "Response: 425 Can't open data connection."


def direct(text: str, **fields: object) -> dict:
    return message_event(text, channel=DM, channel_type="im", **fields)


def deliver(bot: Bot, event: dict, event_id: str | None = None) -> None:
    handle_direct_message(
        event=event, body=event_body(event, event_id), client=bot.client, context=bot.context
    )


def test_only_a_conversation_with_errdesk_is_direct() -> None:
    assert is_direct(direct(ERROR))
    assert not is_direct(message_event(ERROR)), "a channel message is not"


def test_an_error_sent_to_errdesk_is_answered_in_the_conversation(bot: Bot) -> None:
    deliver(bot, direct(ERROR))
    (post,) = bot.fake.posts()
    assert post.body["channel"] == DM
    assert not post.body.get("thread_ts"), "a conversation with errdesk needs no thread"
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")


def test_a_question_in_a_thread_of_the_conversation_is_answered_there(bot: Bot) -> None:
    deliver(bot, direct(ERROR, thread_ts="1700000000.000300"))
    (post,) = bot.fake.posts()
    assert post.body["thread_ts"] == "1700000000.000300"


def test_help_and_families_are_answered_as_slash_command_text_is(bot: Bot) -> None:
    deliver(bot, direct("list ftp 5xx"))
    (post,) = bot.fake.posts()
    assert "FTP 550" in post.text, "a family listing, as /errcode list ftp 5xx gives"


def test_a_message_with_no_error_says_how_to_ask(bot: Bot) -> None:
    deliver(bot, direct("lunch at noon?"))
    (post,) = bot.fake.posts()
    assert "/errcode 425" in post.text, "nothing found, and how to ask in a way that works"


def test_errdesks_own_messages_and_edits_are_not_answered(bot: Bot) -> None:
    deliver(bot, direct(ERROR, user=BOT_USER_ID))
    deliver(bot, direct(ERROR, subtype="message_changed"))
    assert bot.fake.posts() == []


def test_a_retried_event_is_answered_once(bot: Bot) -> None:
    event = direct(ERROR)
    deliver(bot, event, event_id="Ev0DIRECT1")
    deliver(bot, event, event_id="Ev0DIRECT1")
    assert len(bot.fake.posts()) == 1
