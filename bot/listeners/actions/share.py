"""The "Share in channel" button of a private answer: post it for everyone.

The answer to a /errcode query goes to the channel; the answer to a message picked with the
shortcut goes to that message's thread, beside what it explains.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.web import WebClient

from bot.listeners.messages import clicked_channel, read_again
from bot.listeners.services import Services, observed, services_of
from bot.listeners.slack_calls import respond_with
from bot.outbox import Reply
from bot.render.blocks import Expansion, Message, read_share_value, render_answer

NOT_POSTED = Message(
    "I could not post in this channel. If I am not a member, add me with /invite and try again.",
    [],
)
EXPIRED = Message("That answer can no longer be shared; ask /errcode again.", [])
# How long the click waits for its post (queued behind others in the channel, or retried) before
# leaving the private answer in place; the post still goes out.
SHARE_WAIT_SECONDS = 5.0


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
    observed("action", lambda: share(services, body, action, client, context.bot_user_id))


def share(
    services: Services,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    bot_user_id: str | None,
) -> str:
    """Post the answer through the outbound queue and wait a little for it: the private answer
    is removed once the public one is posted, and stays when Slack refused it. A picked message
    too long for the button is read again, so the shared answer is the one that was seen."""
    shared = read_share_value(str(action.get("value") or "")) or Expansion()
    query, picked = shared.query, shared.picked
    response_url = body.get("response_url")
    channel = clicked_channel(body)
    user = (body.get("user") or {}).get("id")
    if query is None and picked is not None and channel:
        read = read_again(client, services.settings, channel, picked, bot_user_id)
        query = read.text if read is not None else None
    question = services.engine.ask(query) if query else None
    answer = question.answer if question is not None and question.kind == "answer" else None
    if answer is None or answer.decisive is None or not channel:
        respond_with(response_url, EXPIRED, response_type="ephemeral", replace_original=False)
        return "not_found"
    shown = render_answer(answer, asked=query, shared_by=user, picked=picked, warn=False)
    click = str(body.get("trigger_id") or (action.get("action_ts") or ""))
    thread_ts = picked.thread_ts if picked is not None else None
    reply = Reply.of(f"share:{channel}:{user}:{click}", channel, shown, thread_ts)
    posted = services.outbox.send(reply).wait(SHARE_WAIT_SECONDS)
    if posted is False:
        respond_with(response_url, NOT_POSTED, response_type="ephemeral", replace_original=False)
        return "error"
    if posted is None:
        return "queued"
    respond_with(response_url, None, delete_original=True)
    return "shared"
