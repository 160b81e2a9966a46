"""Helpful / Not it: record the vote, then show it on the message itself."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.web import WebClient

from bot.listeners.services import Services, observed, services_of
from bot.listeners.slack_calls import replace_clicked, respond_with
from bot.render.blocks import VOTES, Message, read_feedback_value, with_votes

log = logging.getLogger("errdesk.feedback")
THANKS = Message("Thanks, your vote is recorded.", [])


def handle_feedback(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    context: BoltContext,
) -> None:
    """One vote per person per message; voting again replaces the earlier vote."""
    ack()
    services = services_of(context)
    observed("action", lambda: record_feedback(services, body, action, client))


def record_feedback(
    services: Services,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
) -> str:
    vote = VOTES.get(str(action.get("action_id")))
    user = (body.get("user") or {}).get("id")
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if vote is None or not user or not channel or not ts:
        return "ignored"
    tallies = services.store.record_vote(f"{channel}:{ts}", str(user), vote)
    message = body.get("message") or {}
    blocks = message.get("blocks")
    # The button names the message the reply explains, so the vote's line names the one
    # auto-reply decision it judged (that decision's line names the same message).
    entry, explained = read_feedback_value(action.get("value"))
    on = f" on {channel}:{explained.ts}" if explained is not None else ""
    log.info(
        "Feedback recorded: %s on %s%s (%s)",
        vote,
        entry,
        on,
        ", ".join(f"{name} {count}" for name, count in sorted(tallies.items())),
        extra={
            "vote": vote,
            "entry": entry,
            "channel": channel,
            "reply_ts": str(ts),
            "ts": explained.ts if explained is not None else None,
            "thread_ts": explained.thread_ts if explained is not None else None,
            "votes": dict(tallies),
        },
    )
    response_url = body.get("response_url")
    if not isinstance(blocks, list) or not blocks:
        respond_with(response_url, THANKS, response_type="ephemeral", replace_original=False)
        return "voted"
    updated = Message(str(message.get("text") or THANKS.text), with_votes(blocks, vote, tallies))
    return "voted" if replace_clicked(client, body, updated) else "error"
