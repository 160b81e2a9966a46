"""/errcode TEXT: a private answer, acknowledged at once so Slack's 3 seconds never run out."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.listeners.messages import question_outcome, render_question
from bot.listeners.services import Services, count_reply, count_unrecognized, observed, services_of
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
    if question.kind == "nothing":
        count_unrecognized("command")
    message = render_question(question, query, asked=query)
    if not respond_with(command.get("response_url"), message, response_type="ephemeral"):
        return "error"
    if question.kind == "answer" and question.answer is not None:
        count_reply(question.answer)
    return question_outcome(question)
