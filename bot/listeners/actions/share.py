"""The "Share in channel" button of a private /errcode answer: post it for everyone."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.web import WebClient

from bot.listeners.services import Services, observed, services_of
from bot.listeners.slack_calls import post, respond_with
from bot.render.blocks import Message, read_share_value, render_answer

NOT_POSTED = Message(
    "I could not post in this channel. If I am not a member, add me with /invite and try again.",
    [],
)
EXPIRED = Message("That answer can no longer be shared; ask /errcode again.", [])


def handle_share(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
) -> None:
    """Answer the same query again, publicly, credited to whoever shared it."""
    ack()
    services = services_of(context)
    observed("action", lambda: share(services, body, action, client))


def share(
    services: Services,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
) -> str:
    query = read_share_value(str(action.get("value") or ""))
    response_url = body.get("response_url")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    user = (body.get("user") or {}).get("id")
    question = services.engine.ask(query) if query else None
    answer = question.answer if question is not None and question.kind == "answer" else None
    if answer is None or answer.decisive is None or not channel:
        respond_with(response_url, EXPIRED, response_type="ephemeral", replace_original=False)
        return "not_found"
    message = render_answer(answer, asked=query, shared_by=user)
    if not post(client, str(channel), message):
        respond_with(response_url, NOT_POSTED, response_type="ephemeral", replace_original=False)
        return "error"
    respond_with(response_url, None, delete_original=True)
    return "shared"
