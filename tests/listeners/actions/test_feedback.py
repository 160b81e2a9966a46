"""Helpful / Not it: acknowledged, recorded, shown on the message, logged without text."""

from __future__ import annotations

import logging

import pytest

from bot.listeners.actions.feedback import handle_feedback
from bot.render.blocks import (
    ACTION_HELPFUL,
    ACTION_NOT_IT,
    FEEDBACK_BLOCK,
    VOTES_BLOCK,
    Explained,
    render_answer,
)
from tests.conftest import Bot, action_payload, new_ts
from tests.render.test_blocks import answer_for


def click(
    bot: Bot,
    action_id: str,
    *,
    ephemeral: bool = False,
    message: dict | None = None,
    explained: Explained | None = None,
):
    """Click one of the vote buttons of an answer (the reply explaining `explained`, when
    given), with the value the button carries."""
    shown = render_answer(answer_for(), explained=explained)
    message = (
        message
        if message is not None
        else {
            "ts": new_ts(),
            "text": shown.text,
            "blocks": shown.blocks,
        }
    )
    body = action_payload(
        action_id,
        button_value(shown.blocks, action_id),
        bot.fake.response_url("vote"),
        message=message,
        ephemeral=ephemeral,
    )
    bot.act(handle_feedback, body)
    return body


def button_value(blocks: list[dict], action_id: str) -> str:
    (actions,) = [block for block in blocks if block.get("block_id") == FEEDBACK_BLOCK]
    return next(e["value"] for e in actions["elements"] if e["action_id"] == action_id)


def test_a_vote_on_a_public_answer_updates_the_message(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="errdesk.feedback"):
        body = click(bot, ACTION_HELPFUL)
    assert bot.order[0] == "ack"
    (update,) = bot.fake.calls_to("chat.update")
    assert update.body["ts"] == body["container"]["message_ts"]
    assert update.body["channel"] == "C0OTHER01"
    tally = next(b for b in update.body["blocks"] if b.get("block_id") == VOTES_BLOCK)
    assert "Helpful: 1" in tally["elements"][0]["text"]
    (record,) = [r for r in caplog.records if r.name == "errdesk.feedback"]
    assert "helpful" in record.getMessage()
    assert "ftp 550" in record.getMessage()
    assert "Permission denied" not in record.getMessage()  # no message text in the log


def test_a_vote_on_a_thread_reply_logs_the_message_it_explains(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    explained = Explained("1700000100.000100", "1700000100.000200")
    with caplog.at_level(logging.INFO, logger="errdesk.feedback"):
        body = click(bot, ACTION_NOT_IT, explained=explained)
    (record,) = [r for r in caplog.records if r.name == "errdesk.feedback"]
    assert record.reply_ts == body["container"]["message_ts"], "the reply voted on, by its ts"
    line = record.getMessage()
    assert f"ftp 550 on C0OTHER01:{explained.ts}" in line, f"the decision's message: {line}"
    assert (record.ts, record.thread_ts) == (explained.ts, explained.thread_ts), (
        "fields of the JSON line too"
    )


def test_a_vote_from_a_button_naming_only_its_code_is_logged_without_a_message(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    shown = render_answer(answer_for())
    message = {"ts": new_ts(), "text": shown.text, "blocks": shown.blocks}
    body = action_payload(ACTION_HELPFUL, "ftp 550", bot.fake.response_url("vote"), message=message)
    with caplog.at_level(logging.INFO, logger="errdesk.feedback"):
        bot.act(handle_feedback, body)
    (record,) = [r for r in caplog.records if r.name == "errdesk.feedback"]
    assert (record.entry, record.ts) == ("ftp 550", None), "posted before votes named a message"


def test_votes_are_one_per_person_and_counted(bot: Bot) -> None:
    message = click(bot, ACTION_HELPFUL)["message"]
    click(bot, ACTION_NOT_IT, message=message)
    key = f"C0OTHER01:{message['ts']}"
    assert bot.services.store.record_vote(key, "U0OTHER02", "helpful") == {
        "helpful": 1,
        "not_it": 1,
    }


def test_a_vote_on_a_private_answer_replaces_it_through_the_response_url(bot: Bot) -> None:
    click(bot, ACTION_NOT_IT, ephemeral=True)
    assert bot.fake.calls_to("chat.update") == []
    (response,) = bot.responses
    assert response["replace_original"] is True
    assert any(b.get("block_id") == VOTES_BLOCK for b in response["blocks"])


def test_a_failed_update_is_counted_not_raised(bot: Bot) -> None:
    bot.fake.fail("chat.update", error="message_not_found")
    click(bot, ACTION_HELPFUL)
    assert bot.fake.calls_to("chat.update") == []
    assert len(bot.fake.calls_to("chat.update", ok_only=False)) == 1


def test_a_server_error_on_the_response_url_is_retried(bot: Bot) -> None:
    bot.fake.fail("respond/vote", status=503)
    click(bot, ACTION_NOT_IT, ephemeral=True)
    (response,) = bot.responses
    assert response["replace_original"] is True
    assert [call.status for call in bot.fake.responses()] == [503, 200]
