"""What the listeners share: the text of a Slack message, the reply to a question, the marks.

The text is the message's own words plus its shared text files; the engine decides what the
text means. The keys name the marks kept in the shared state so that one reply is posted per
event, per message and per (thread, error code), whichever replica Slack reaches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from slack_sdk.web import WebClient

from bot.engine import Entry, Question
from bot.listeners.files import shared_text
from bot.listeners.services import Services
from bot.render.blocks import (
    Explained,
    Message,
    render_answer,
    render_family,
    render_nothing_found,
    render_usage,
)
from bot.state import EXPLAINED_THREAD_TTL, SEEN_EVENT_TTL, StateStore


def message_text(
    client: WebClient, services: Services, message: Mapping[str, Any], bot_user_id: str | None
) -> str:
    """The words of `message` without mentions of the bot, then its text files' contents."""
    words = str(message.get("text") or "")
    if bot_user_id:
        words = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", words)
    parts = [words.strip()]
    files = message.get("files")
    if isinstance(files, list) and files:
        parts += shared_text(client, files, services.settings.slack_api_url)
    return "\n".join(part for part in parts if part)


def mentions(message: Mapping[str, Any], user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}" in str(message.get("text") or "")


def from_a_bot(message: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """Bots (other apps, integrations, ourselves) are never answered: no loops between bots."""
    return (
        bool(message.get("bot_id"))
        or message.get("subtype") == "bot_message"
        or not message.get("user")
        or message.get("user") == bot_user_id
    )


def render_question(
    question: Question,
    text: str,
    *,
    asked: str | None = None,
    explained: Explained | None = None,
) -> Message:
    """The reply to an explicit question the engine read (`Engine.ask`) from `text`.

    `asked` is the /errcode query: echoed back, and the answer gets the Share button;
    `explained` is the Slack message `text` came from, for "More steps" to read again.
    """
    answer = question.answer
    if question.kind == "usage":
        return render_usage()
    if question.kind == "family":
        return render_family(text, question.entries)
    if question.kind == "answer" and answer is not None:
        return render_answer(answer, asked=asked, shareable=asked is not None, explained=explained)
    return render_nothing_found(asked, answer.secrets if answer is not None else ())


def question_outcome(question: Question) -> str:
    """The outcome a request that asked `question` is recorded with, once answered."""
    return {"usage": "usage", "nothing": "not_found"}.get(question.kind, "replied")


def first_delivery(store: StateStore, body: Mapping[str, Any]) -> bool:
    """False for an event handled before: Slack's retries of an event carry its event_id."""
    key = event_key(body)
    return key is None or store.first_time(key, SEEN_EVENT_TTL)


def first_reply(store: StateStore, channel: str, ts: str) -> bool:
    """False when the message at `ts` was answered already, whichever event or replica did it."""
    return store.first_time(reply_key(channel, ts), SEEN_EVENT_TTL)


def first_explanation(store: StateStore, channel: str, thread_ts: str, entry: Entry) -> bool:
    """Mark `entry` as explained in the thread; False when it was, so a thread hears it once."""
    return store.first_time(explanation_key(channel, thread_ts, entry), EXPLAINED_THREAD_TTL)


def event_key(body: Mapping[str, Any]) -> str | None:
    event_id = body.get("event_id")
    return f"event:{event_id}" if isinstance(event_id, str) and event_id else None


def reply_key(channel: str, ts: str) -> str:
    return f"replied:{channel}:{ts}"


def explanation_key(channel: str, thread_ts: str, entry: Entry) -> str:
    return f"explained:{channel}:{thread_ts}:{entry.protocol}:{entry.code}"


def release(store: StateStore, *keys: str | None) -> None:
    """Forget marks taken for a reply that was not posted, so a retry or the next message
    can still be answered: a failed post must not silence a thread for days."""
    for key in keys:
        if key is not None:
            store.forget(key)
