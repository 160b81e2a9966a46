"""What the event listeners share: the text of a Slack message and the keys of what was done.

The text is the message's own words plus its shared text files; the engine decides what the
text means. The keys name the marks kept in the shared state so that one reply is posted per
event, per message and per (thread, error code), whichever replica Slack reaches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from slack_sdk.web import WebClient

from bot.engine import Answer, Engine, Entry
from bot.listeners.files import shared_text
from bot.listeners.services import Services
from bot.render.blocks import Message, render_answer, render_family
from bot.state import EXPLAINED_THREAD_TTL, SEEN_EVENT_TTL, StateStore

LIST_WORD = "list"


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


def answer_question(engine: Engine, text: str) -> tuple[Message, Answer | None] | None:
    """A reply to someone who asked: a family list, an explanation, or a lookup; None if nothing.

    "list ..." asks for a family. Otherwise the text is read as a message first (`explain`: a
    pasted error or log), then as a question the way /errcode reads it (`lookup`: "sftp 3",
    "connection reset"), and only then as a family ("ftp 5xx"), since "sftp 3" reads as both.
    """
    if not text.strip():
        return None
    if text.split(maxsplit=1)[0].lower() == LIST_WORD:
        family = engine.family(text)
        if family is not None:
            return render_family(text, family), None
    answer = engine.explain(text)
    if answer.decisive is None:
        answer = engine.lookup(text)
    if answer.decisive is not None:
        return render_answer(answer), answer
    family = engine.family(text)
    return (render_family(text, family), None) if family is not None else None


def first_delivery(store: StateStore, body: Mapping[str, Any]) -> bool:
    """False for an event handled before: Slack's retries of an event carry its event_id."""
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return True
    return store.first_time(f"event:{event_id}", SEEN_EVENT_TTL)


def first_reply(store: StateStore, channel: str, ts: str) -> bool:
    """False when the message at `ts` was answered already, whichever event or replica did it."""
    return store.first_time(f"replied:{channel}:{ts}", SEEN_EVENT_TTL)


def first_explanation(store: StateStore, channel: str, thread_ts: str, entry: Entry) -> bool:
    """Mark `entry` as explained in the thread; False when it was, so a thread hears it once."""
    key = f"explained:{channel}:{thread_ts}:{entry.protocol}:{entry.code}"
    return store.first_time(key, EXPLAINED_THREAD_TTL)
