"""@errdesk in a channel: always answered, in the thread of the mention."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk.web import WebClient

from bot.listeners import messages
from bot.listeners.services import Services, count_reply, count_unrecognized, observed, services_of
from bot.listeners.slack_calls import call, post
from bot.render.blocks import render_nothing_found


def handle_app_mention(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Explain the mention's text, else the thread's first message, else say how to ask."""
    services = services_of(context)
    observed(
        "mention", lambda: reply_to_mention(services, client, event, body, context.bot_user_id)
    )


def reply_to_mention(
    services: Services,
    client: WebClient,
    event: dict[str, Any],
    body: dict[str, Any],
    bot_user_id: str | None,
) -> str:
    if messages.from_a_bot(event, bot_user_id):
        return "ignored"
    store = services.store
    if not messages.first_delivery(store, body):
        return "duplicate"
    channel, ts = str(event["channel"]), str(event["ts"])
    thread_ts = str(event.get("thread_ts") or ts)
    if not messages.first_reply(store, channel, ts):
        return "duplicate"

    text = messages.message_text(client, services, event, bot_user_id)
    reply = messages.answer_question(services.engine, text)
    if reply is None and event.get("thread_ts") and event.get("thread_ts") != ts:
        parent = _first_message(client, channel, thread_ts)
        if parent is not None:
            parent_text = messages.message_text(client, services, parent, bot_user_id)
            reply = messages.answer_question(services.engine, parent_text)
    if reply is None:
        count_unrecognized("mention")
        return "not_found" if post(client, channel, render_nothing_found(), thread_ts) else "error"

    message, answer = reply
    if not post(client, channel, message, thread_ts):
        return "error"
    if answer is not None and answer.decisive is not None:
        messages.first_explanation(store, channel, thread_ts, answer.decisive)
        count_reply(answer)
    return "replied"


def _first_message(client: WebClient, channel: str, thread_ts: str) -> dict[str, Any] | None:
    response = call(
        "conversations.replies",
        client.conversations_replies,
        channel=channel,
        ts=thread_ts,
        limit=1,
    )
    found = response.get("messages") if response is not None else None
    if isinstance(found, list) and found and isinstance(found[0], dict):
        return found[0]
    return None
