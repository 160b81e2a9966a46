"""The Slack app: a Bolt App with errdesk's listeners, built from Settings and nothing else.

Building it makes no network call (no auth.test at construction), so it can be created before
Slack, or the fake Slack of the tests, is reachable. Every Web API call goes to
SLACK_API_URL; rate limits, server errors and dropped connections are retried by the client.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk.web import WebClient

from bot.config import Settings
from bot.engine import Engine, load_knowledge
from bot.listeners import register
from bot.listeners.services import Services
from bot.listeners.slack_calls import TIMEOUT, retry_handlers
from bot.outbox import Outbox, create_outbox
from bot.state import StateStore, create_store


class _QuietTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when given a client; ours carries that token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


BOLT_LOGGER = logging.getLogger("errdesk.bolt")
BOLT_LOGGER.addFilter(_QuietTokenNotice())


def create_client(settings: Settings) -> WebClient:
    """The bot's WebClient on SLACK_API_URL, retrying 429 (after Retry-After), 5xx and resets."""
    return WebClient(
        token=settings.bot_token,
        base_url=settings.slack_api_url,
        timeout=TIMEOUT,
        retry_handlers=retry_handlers(),
    )


def create_app(
    settings: Settings,
    client: WebClient | None = None,
    *,
    engine: Engine | None = None,
    store: StateStore | None = None,
    outbox: Outbox | None = None,
) -> App:
    """A Bolt App for errdesk; pass `engine`, `store` and `outbox` to share them."""
    store = store or create_store(settings)
    services = Services(
        settings=settings,
        engine=engine or Engine(load_knowledge(settings.knowledge_dir)),
        store=store,
        outbox=outbox or create_outbox(settings, store),
    )
    app = App(
        client=client or create_client(settings),
        signing_secret=settings.signing_secret or "",
        # auth.test runs on the first request instead, and its result is kept.
        token_verification_enabled=False,
        logger=BOLT_LOGGER,
    )
    register(app, services)
    return app
