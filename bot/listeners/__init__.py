"""Slack listeners, one small callback a file, grouped by kind like Bolt's own samples.

Listeners pick the text, decide where to reply, acknowledge fast, ask the engine and hand the
answer to the renderer. They never parse error text themselves.
"""

from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext

from bot.listeners import actions, commands, events, shortcuts
from bot.listeners.services import CONTEXT_KEY, Services


def register(app: App, services: Services) -> None:
    """Make `services` available to every listener (as context["errdesk"]), then wire them."""

    def attach_services(context: BoltContext, next: Callable[[], Any]) -> None:
        context[CONTEXT_KEY] = services
        next()

    app.use(attach_services)
    events.register(app)
    commands.register(app)
    shortcuts.register(app)
    actions.register(app)
