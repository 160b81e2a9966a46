""" "More steps": the same answer in full, in place of the short one.

The button holds no message text. A thread reply's button names the message it explained,
which is read again (conversations.replies), so an edit shows and a deleted message stays
deleted; a private /errcode answer's button holds the query, as its Share button does.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.web import WebClient

from bot.listeners.messages import clicked_channel, read_again
from bot.listeners.services import Services, observed, services_of
from bot.listeners.slack_calls import replace_clicked, respond_with
from bot.render.blocks import (
    Expansion,
    Message,
    keep_votes,
    read_more_value,
    render_answer,
)

GONE = Message(
    "That message is no longer there to explain; ask again with /errcode or mention me.", []
)


def handle_more_steps(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
) -> None:
    """Acknowledge, answer the same question again in full, and replace the short answer."""
    ack()
    services = services_of(context)
    observed("action", lambda: expand(services, body, action, client, context.bot_user_id))


def expand(
    services: Services,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    bot_user_id: str | None,
) -> str:
    channel = clicked_channel(body)
    response_url = body.get("response_url")
    expansion = read_more_value(str(action.get("value") or ""))
    full = None
    if expansion is not None and channel:
        full = _full_answer(services, client, channel, expansion, bot_user_id)
    if full is None:
        respond_with(response_url, GONE, response_type="ephemeral", replace_original=False)
        return "not_found"
    blocks = (body.get("message") or {}).get("blocks")
    if isinstance(blocks, list):
        full = keep_votes(blocks, full)
    return "expanded" if replace_clicked(client, body, full) else "error"


def _full_answer(
    services: Services,
    client: WebClient,
    channel: str,
    expansion: Expansion,
    bot_user_id: str | None,
) -> Message | None:
    """The full answer to the question the button names; None when it cannot be read again."""
    if expansion.explained is not None:
        read = read_again(client, services.settings, channel, expansion.explained, bot_user_id)
        question = services.engine.ask(read.text) if read is not None else None
        if question is None or question.answer is None or question.kind != "answer":
            return None
        # A thread reply is public: the poster of a secret was warned privately already.
        return render_answer(question.answer, explained=expansion.explained, full=True, warn=False)
    query = expansion.query
    if query is None and expansion.picked is not None:
        read = read_again(client, services.settings, channel, expansion.picked, bot_user_id)
        query = read.text if read is not None else None
    question = services.engine.ask(query) if query else None
    if question is None or question.answer is None or question.kind != "answer":
        return None
    return render_answer(
        question.answer,
        asked=query,
        shareable=expansion.shared_by is None,
        shared_by=expansion.shared_by,
        picked=expansion.picked,
        full=True,
    )
