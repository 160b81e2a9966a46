""" "Explain with errdesk" on any message: a private answer, as /errcode gives.

errdesk replies unasked only when it is sure a message reports an error; this is how someone
asks about a message it stayed quiet on (a colleague's paste, a CI bot's failure) without
copying it into /errcode. The person asked, so the message is read as an explicit question.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.web import WebClient

from bot.engine import Question
from bot.listeners.messages import (
    answer_privately,
    from_errdesk,
    log_missed_report,
    message_text,
    warn_privately,
)
from bot.listeners.services import Services, observed, services_of
from bot.listeners.slack_calls import respond_with
from bot.render.blocks import Explained, Message, render_apology

OWN_ANSWER = Message(
    "That is my own answer. Pick the message it explains, or ask with /errcode.", []
)


def handle_explain_message(
    ack: Ack, shortcut: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Acknowledge first (Slack waits 3 seconds), then answer through the shortcut's
    response_url, only to whoever picked the message."""
    ack()
    services = services_of(context)
    response_url = shortcut.get("response_url")
    observed(
        "shortcut",
        lambda: explain_picked(services, client, shortcut, context.bot_user_id, context.bot_id),
        apologize=lambda: respond_with(response_url, render_apology(), response_type="ephemeral"),
    )


def explain_picked(
    services: Services,
    client: WebClient,
    shortcut: dict[str, Any],
    bot_user_id: str | None,
    bot_id: str | None,
) -> str:
    """Read the picked message (its files too) and answer it; any author's message but
    errdesk's own answers, which explain another message already."""
    message = shortcut.get("message") or {}
    response_url = shortcut.get("response_url")
    if from_errdesk(message, bot_user_id, bot_id):
        respond_with(response_url, OWN_ANSWER, response_type="ephemeral")
        return "ignored"
    read = message_text(client, services.settings, message, bot_user_id)
    # A message with no text to read (an image alone) has no error in it; asked nothing,
    # the engine would answer with /errcode's usage instead.
    question = services.engine.ask(read.text) if read.text else Question("nothing")
    _warn_the_poster(services, client, shortcut, question)
    ts = message.get("ts")
    picked = Explained(str(message.get("thread_ts") or ts), str(ts)) if ts else None
    outcome = answer_privately("shortcut", response_url, question, read, picked=picked)
    channel = str((shortcut.get("channel") or {}).get("id") or "")
    log_missed_report(services, message, channel, read.text, bot_user_id)
    return outcome


def _warn_the_poster(
    services: Services, client: WebClient, shortcut: dict[str, Any], question: Question
) -> None:
    """Whoever picked a message that shows a credential is warned in the answer; its poster,
    when someone else, is told privately too, as a mention or an auto-reply would."""
    message = shortcut.get("message") or {}
    picker = (shortcut.get("user") or {}).get("id")
    answer = question.answer
    if answer is None or not answer.secrets or message.get("user") in (None, picker):
        return
    channel = (shortcut.get("channel") or {}).get("id")
    warn_privately(services, client, {**message, "channel": channel}, answer.secrets)
