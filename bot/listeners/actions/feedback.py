"""Helpful / Not it: record the vote, then show it on the message itself."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk.web import WebClient

from bot.listeners.services import Services, observed, services_of
from bot.listeners.slack_calls import replace_clicked, respond_with
from bot.render.blocks import VOTES, Message, with_votes

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
    # The thread of a reply in a channel, with its code, names the one auto-reply decision it
    # judged: a code is explained once a thread, and that decision's line names the same thread.
    thread_ts = message.get("thread_ts")
    where = f" in {channel}:{thread_ts}" if isinstance(thread_ts, str) else ""
    log.info(
        "Feedback recorded: %s on %s%s (%s)",
        vote,
        str(action.get("value") or "?")[:20],
        where,
        ", ".join(f"{name} {count}" for name, count in sorted(tallies.items())),
        extra={
            "vote": vote,
            "entry": str(action.get("value") or "")[:20],
            "channel": channel,
            "thread_ts": thread_ts if isinstance(thread_ts, str) else None,
            "votes": dict(tallies),
        },
    )
    response_url = body.get("response_url")
    if not isinstance(blocks, list) or not blocks:
        respond_with(response_url, THANKS, response_type="ephemeral", replace_original=False)
        return "voted"
    updated = Message(str(message.get("text") or THANKS.text), with_votes(blocks, vote, tallies))
    return "voted" if replace_clicked(client, body, updated) else "error"
