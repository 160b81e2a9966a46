"""Calling Slack without letting its failures crash a listener.

Rate limits (429, after Retry-After), server errors (5xx) and dropped connections are retried
inside the client by slack_sdk's retry handlers: the bot's WebClient (built in `bot.app`) and
the WebhookClient that answers through a response_url both get `retry_handlers()`. What reaches
here is final: an API error such as channel_not_found or not_in_channel, or a failure that
outlasted the retries. Each is logged by method and error code (never with the message) and
counted, and the listener carries on. Replies in channels are not posted here but through the
outbound queue (`bot.outbox`), which paces, retries and never posts one twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.client import HTTPException
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.web import SlackResponse, WebClient
from slack_sdk.webhook import WebhookClient

from bot import metrics
from bot.render.blocks import Message

# Slack answers 429 with Retry-After (usually a second or two for chat.postMessage).
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
CONNECTION_RETRIES = 2
TIMEOUT = 15


def retry_handlers() -> list[RetryHandler]:
    """Retry 429 (after Retry-After), 5xx and dropped connections: a new list for each client."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
        ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
    ]


# How a Web API call is made: the method's name, its function, its arguments.
Caller = Callable[..., SlackResponse | None]


def call(
    method: str,
    function: Callable[..., SlackResponse],
    /,
    on_failure: Callable[[str], object] | None = None,
    **arguments: Any,
) -> SlackResponse | None:
    """`function(**arguments)`, or None after logging and counting why it failed (told to
    `on_failure` too, for a caller that tells one failure from another)."""
    try:
        return function(**arguments)
    except SlackApiError as error:
        reason = str(error.response.get("error") or "unknown") if error.response else "unknown"
    except (SlackClientError, OSError, HTTPException) as error:
        reason = type(error).__name__
    metrics.slack_call_failed(method, reason)
    if on_failure is not None:
        on_failure(reason)
    return None


def replace_clicked(client: WebClient, body: Mapping[str, Any], message: Message) -> bool:
    """Replace the message whose button was clicked, in place; whether Slack took it.

    A private (ephemeral) message is reached only through the click's response_url; a posted
    one is updated with chat.update.
    """
    container = body.get("container") or {}
    if container.get("is_ephemeral"):
        return respond_with(body.get("response_url"), message, replace_original=True)
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if not channel or not ts:
        return False
    updated = call(
        "chat.update",
        client.chat_update,
        channel=channel,
        ts=ts,
        text=message.text,
        blocks=message.blocks,
    )
    return updated is not None


def respond_with(response_url: object, message: Message | None, **options: Any) -> bool:
    """Send through the payload's response_url, retried like Web API calls; whether it arrived.

    Bolt's own `respond` retries only dropped connections, so a 429 or a 5xx from Slack would
    lose the answer; this client retries those too. Failures are counted like Web API failures.
    """
    if not isinstance(response_url, str) or not response_url:
        metrics.slack_call_failed("response_url", "missing")
        return False
    content: dict[str, Any] = {}
    if message is not None:
        content["text"] = message.text
        if message.blocks:
            content["blocks"] = message.blocks
    webhook = WebhookClient(url=response_url, timeout=TIMEOUT, retry_handlers=retry_handlers())
    try:
        response = webhook.send(**content, **options)
    except (SlackClientError, OSError, HTTPException) as error:
        metrics.slack_call_failed("response_url", type(error).__name__)
        return False
    if response.status_code != HTTPStatus.OK:
        metrics.slack_call_failed("response_url", f"http_{response.status_code}")
        return False
    return True
