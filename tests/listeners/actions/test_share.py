"""The Share button: the private answer posted for everyone, or a clear word why not."""

from __future__ import annotations

from bot.listeners.actions.share import handle_share
from bot.render.blocks import ACTION_SHARE, Explained, share_value
from tests.conftest import HUMAN, Bot, action_payload
from tests.render.test_blocks import entry


def click(bot: Bot, value: str) -> None:
    body = action_payload(ACTION_SHARE, value, bot.fake.response_url("share"), ephemeral=True)
    bot.act(handle_share, body)


def test_sharing_posts_the_answer_in_the_channel_and_removes_the_private_one(bot: Bot) -> None:
    click(bot, share_value("425", entry()))
    assert bot.order[0] == "ack"
    (post,) = bot.fake.posts()
    assert post.body["channel"] == "C0OTHER01"
    assert "thread_ts" not in post.body or post.body["thread_ts"] is None
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")
    assert f"Shared by <@{HUMAN}>" in post.text
    assert "Share in channel" not in post.text
    assert bot.responses == [{"delete_original": True}]


def test_the_answer_to_a_picked_message_is_shared_in_its_thread(bot: Bot) -> None:
    click(bot, share_value("425", entry(), Explained("1700000000.000100", "1700000000.000200")))
    (post,) = bot.fake.posts()
    assert post.body["thread_ts"] == "1700000000.000100", "beside the message it explains"
    assert post.body["blocks"][0]["text"]["text"].startswith("FTP 425")
    assert "/errcode" not in post.text, "the picked message was not a /errcode query"


def test_a_channel_the_bot_cannot_post_in_gets_a_private_explanation(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", error="not_in_channel")
    click(bot, share_value("425", entry()))
    (response,) = bot.responses
    assert "/invite" in response["text"]
    assert response["response_type"] == "ephemeral"


def test_a_value_that_is_not_ours_is_refused_politely(bot: Bot) -> None:
    click(bot, "garbage")
    assert bot.fake.posts() == []
    assert "no longer be shared" in bot.responses[0]["text"]


def test_the_private_answer_is_removed_even_after_a_rate_limit(bot: Bot) -> None:
    bot.fake.fail("respond/share", status=429, retry_after=1)
    click(bot, share_value("425", entry()))
    assert len(bot.fake.posts()) == 1
    assert bot.responses == [{"delete_original": True}]
    assert [call.status for call in bot.fake.responses()] == [429, 200]
