"""A direct message to errdesk: every one is a question, answered in the conversation.

Someone who would rather not ask in a channel writes to errdesk itself (its Messages tab): a
pasted error or log, a code, "list ftp 5xx" or "help", read as /errcode reads its text. Only
they and errdesk see the conversation, so a credential in it is warned about in the answer.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk.web import WebClient

from bot.listeners import messages
from bot.listeners.services import Services, count_reply, count_unrecognized, observed, services_of
from bot.render.blocks import Explained, render_apology


def is_direct(event: dict[str, Any]) -> bool:
    """Bolt's matcher: a message in a conversation with errdesk alone."""
    return event.get("channel_type") == "im"


def handle_direct_message(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Answer the message where it was written, in its thread if it is in one."""
    services = services_of(context)
    observed(
        "direct",
        lambda: answer_direct(services, client, event, body, context.bot_user_id),
        apologize=lambda: messages.reply_in_thread(
            services,
            body,
            str(event.get("channel") or ""),
            event.get("thread_ts"),
            render_apology(),
            suffix=":apology",
        ),
    )


def answer_direct(
    services: Services,
    client: WebClient,
    event: dict[str, Any],
    body: dict[str, Any],
    bot_user_id: str | None,
) -> str:
    subtype = event.get("subtype")
    if subtype not in messages.ANSWERED_SUBTYPES or messages.from_a_bot(event, bot_user_id):
        return "ignored"
    if not messages.first_answer(services.store, body, event):
        return "duplicate"
    channel, ts = str(event["channel"]), str(event["ts"])
    read = messages.message_text(client, services.settings, event, bot_user_id)
    question = services.engine.ask(read.text)
    if question.kind == "nothing":
        count_unrecognized("direct")
    thread_ts = event.get("thread_ts")
    explained = Explained(str(thread_ts or ts), ts)
    reply = messages.render_question(question, read.text, explained=explained)
    messages.reply_in_thread(
        services,
        body,
        channel,
        str(thread_ts) if thread_ts else None,
        reply,
        notes=read.notes,
        release=(messages.event_key(body), messages.reply_key(channel, ts)),
    )
    if question.kind == "answer" and question.answer is not None:
        count_reply(question.answer)
    return messages.question_outcome(question)
