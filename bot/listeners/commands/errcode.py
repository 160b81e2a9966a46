"""/errcode TEXT: a private answer, acknowledged at once so Slack's 3 seconds never run out."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.listeners.messages import MessageText, answer_privately
from bot.listeners.services import Services, observed, services_of
from bot.listeners.slack_calls import respond_with
from bot.render.blocks import render_apology


def handle_errcode(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    """Acknowledge first (an empty 200), then answer through the command's response_url."""
    ack()
    services = services_of(context)
    observed(
        "command",
        lambda: answer_command(services, command),
        apologize=lambda: respond_with(
            command.get("response_url"), render_apology(), response_type="ephemeral"
        ),
    )


def answer_command(services: Services, command: dict[str, Any]) -> str:
    """The engine reads the query (`Engine.ask`): help, a family, an error, or a lookup."""
    query = str(command.get("text") or "").strip()
    question = services.engine.ask(query)
    return answer_privately("command", command.get("response_url"), question, MessageText(query))
