"""Calling Slack without letting its failures crash a listener.

Rate limits (429) and server errors (5xx) are already retried inside the WebClient by the
slack_sdk retry handlers that `bot.app` installs. What reaches here is final: an API error such
as channel_not_found or not_in_channel, or a network failure after the retries. Each is logged
by method and error code (never with the message) and counted, and the listener carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http.client import HTTPException
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse, WebClient

from bot import metrics
from bot.render.blocks import Message

log = logging.getLogger("errdesk.slack")


def call(
    method: str, function: Callable[..., SlackResponse], **arguments: Any
) -> SlackResponse | None:
    """`function(**arguments)`, or None after logging and counting why it failed."""
    try:
        return function(**arguments)
    except SlackApiError as error:
        code = str(error.response.get("error") or "unknown") if error.response else "unknown"
        _failed(method, code)
    except (SlackClientError, OSError, HTTPException) as error:
        _failed(method, type(error).__name__)
    return None


def post(client: WebClient, channel: str, message: Message, thread_ts: str | None = None) -> bool:
    """Post `message` to `channel` (in the thread when given); whether Slack accepted it."""
    response = call(
        "chat.postMessage",
        client.chat_postMessage,
        channel=channel,
        thread_ts=thread_ts,
        text=message.text,
        blocks=message.blocks,
        unfurl_links=False,
        unfurl_media=False,
    )
    return response is not None


def respond_with(respond: Callable[..., Any], message: Message | None, **options: Any) -> bool:
    """Send through the response_url; its failures are counted like Web API failures."""
    content: dict[str, Any] = {}
    if message is not None:
        content["text"] = message.text
        if message.blocks:
            content["blocks"] = message.blocks
    try:
        response = respond(**content, **options)
    except (SlackClientError, OSError, HTTPException) as error:
        _failed("response_url", type(error).__name__)
        return False
    status = getattr(response, "status_code", 200)
    if status != 200:
        _failed("response_url", f"http_{status}")
        return False
    return True


def _failed(method: str, error: str) -> None:
    log.warning("Slack %s failed: %s", method, error)
    metrics.SLACK_API_ERRORS.labels(method=method, error=error).inc()
