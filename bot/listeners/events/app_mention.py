"""@errdesk in a channel: always answered, in the thread of the mention."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk.web import WebClient

from bot.engine import Question
from bot.listeners import messages
from bot.listeners.services import Services, count_reply, count_unrecognized, observed, services_of
from bot.listeners.slack_calls import call
from bot.render.blocks import Explained, render_apology


def handle_app_mention(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Explain the mention's text, else the thread's first message, else say how to ask."""
    services = services_of(context)
    observed(
        "mention",
        lambda: reply_to_mention(services, client, event, body, context.bot_user_id),
        apologize=lambda: _apologize(services, event, body),
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
    if not messages.first_answer(store, body, event):
        return "duplicate"
    channel, ts = str(event["channel"]), str(event["ts"])
    thread_ts = str(event.get("thread_ts") or ts)

    read = messages.message_text(client, services.settings, event, bot_user_id)
    asked, question, source_ts = _read_mention(services, client, event, read, bot_user_id)
    if question.kind == "nothing":
        count_unrecognized("mention")
    answer = question.answer
    if answer is not None:
        messages.warn_privately(services, client, event, answer.secrets)
    release = [messages.event_key(body), messages.reply_key(channel, ts)]
    if question.kind == "answer" and answer is not None and answer.decisive is not None:
        messages.first_explanation(store, channel, thread_ts, answer.decisive)
        release.append(messages.explanation_key(channel, thread_ts, answer.decisive))
        count_reply(answer)
    explained = Explained(thread_ts, source_ts)
    reply = messages.render_question(question, asked.text, explained=explained, warn=False)
    messages.reply_in_thread(
        services, body, channel, thread_ts, reply, notes=asked.notes, release=tuple(release)
    )
    return messages.question_outcome(question)


def _read_mention(
    services: Services,
    client: WebClient,
    event: dict[str, Any],
    read: messages.MessageText,
    bot_user_id: str | None,
) -> tuple[messages.MessageText, Question, str]:
    """What the mention asks, the text that asked it, and the ts of the message it is in.

    Strictly first (an error in the mention itself, a family, or "help"); in a thread, a
    mention that asks nothing the engine can read on its own ("what is this?", "help")
    means the thread's first message; only then is the mention looked up loosely
    ("sftp 3", "connection reset"), or answered with how to ask.
    """
    engine = services.engine
    ts, thread_ts = str(event["ts"]), event.get("thread_ts")
    if not thread_ts or thread_ts == ts:
        return read, engine.ask(read.text), ts  # strictly, then loosely: what ask(text) does
    question = engine.ask(read.text, loose=False)
    if question.kind in ("answer", "family"):
        return read, question, ts
    parent = _first_message(client, str(event["channel"]), str(thread_ts))
    if parent is not None:
        parent_read = messages.message_text(client, services.settings, parent, bot_user_id)
        first = engine.ask(parent_read.text, loose=False)
        if first.kind in ("answer", "family"):
            return parent_read, first, str(thread_ts)
    return read, engine.ask(read.text), ts


def _apologize(services: Services, event: dict[str, Any], body: dict[str, Any]) -> None:
    channel, ts = event.get("channel"), event.get("thread_ts") or event.get("ts")
    if channel and ts:
        messages.reply_in_thread(
            services, body, str(channel), str(ts), render_apology(), suffix=":apology"
        )


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
