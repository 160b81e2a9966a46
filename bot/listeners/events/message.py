"""Plain messages in the auto-reply channels: answered only when the engine says it is worth it.

Silent unless asked is the rule of a helpdesk channel. Nothing is answered from bots (or the
bot itself), edits, deletions, joins or any subtype but file_share; nothing twice for one event
(Slack retries an event with the same event_id); nothing the app_mention listener answers; and
not the same code again in a thread where it was already explained.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk.web import WebClient

from bot.engine import Answer
from bot.listeners import messages
from bot.listeners.services import Services, count_reply, observed, services_of
from bot.render.blocks import Explained, render_answer


def handle_message(
    event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Auto-reply in the thread when the message reports an error worth explaining."""
    services = services_of(context)
    kind = "file_share" if event.get("subtype") == "file_share" else "message"
    observed(kind, lambda: auto_reply(services, client, event, body, context.bot_user_id))


def auto_reply(
    services: Services,
    client: WebClient,
    event: dict[str, Any],
    body: dict[str, Any],
    bot_user_id: str | None,
) -> str:
    channel = str(event.get("channel") or "")
    if not messages.read_unasked(services.settings, channel, event, bot_user_id):
        return "ignored"
    if not messages.first_delivery(services.store, body):
        return "duplicate"

    read = messages.message_text(client, services.settings, event, bot_user_id)
    answer = services.engine.explain(read.text, messages.conversation_of(event))
    messages.warn_privately(services, client, event, answer.secrets)
    outcome = _reply_if_decided(services, body, event, answer, read)
    messages.log_decision(answer, channel, event, services.engine.model.threshold, outcome)
    return outcome


def _reply_if_decided(
    services: Services,
    body: dict[str, Any],
    event: dict[str, Any],
    answer: Answer,
    read: messages.MessageText,
) -> str:
    """Queue the reply the decision wants, unless its code was explained in the thread or the
    message answered already; what became of it."""
    if not answer.reply or answer.decisive is None:
        return "no_error"
    store = services.store
    channel, ts = str(event["channel"]), str(event["ts"])
    thread_ts = str(event.get("thread_ts") or ts)
    if not messages.first_explanation(store, channel, thread_ts, answer.decisive):
        return "already_explained"
    if not messages.first_reply(store, channel, ts):
        return "duplicate"
    release = (
        messages.event_key(body),
        messages.reply_key(channel, ts),
        messages.explanation_key(channel, thread_ts, answer.decisive),
    )
    reply = render_answer(answer, explained=Explained(thread_ts, ts), warn=False)
    messages.reply_in_thread(
        services, body, channel, thread_ts, reply, notes=read.notes, release=release
    )
    count_reply(answer)
    return "replied"
