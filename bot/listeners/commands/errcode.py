"""/errcode TEXT: a private answer, acknowledged at once so Slack's 3 seconds never run out."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.listeners.messages import LIST_WORD
from bot.listeners.services import Services, count_reply, count_unrecognized, observed, services_of
from bot.listeners.slack_calls import respond_with
from bot.render.blocks import render_answer, render_family, render_nothing_found, render_usage

HELP_WORDS = frozenset({"", "help", "?", "-h", "--help", "usage"})


def handle_errcode(
    ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Acknowledge first (an empty 200), then answer through the command's response_url."""
    ack()
    services = services_of(context)
    observed("command", lambda: answer_command(services, command, respond))


def answer_command(services: Services, command: dict[str, Any], respond: Respond) -> str:
    """The command's own syntax is read here (help, list); the query itself by the engine.

    `list` asks for a family; anything else is looked up first, because "sftp 3" is a code
    that also reads as a family, and a family only when nothing matched ("ftp 5xx").
    """
    query = str(command.get("text") or "").strip()
    engine = services.engine
    outcome = "replied"
    if query.lower() in HELP_WORDS:
        message, outcome = render_usage(), "usage"
    elif query.split(maxsplit=1)[0].lower() == LIST_WORD:
        family = engine.family(query)
        message = render_family(query, family) if family is not None else render_usage()
    else:
        answer = engine.lookup(query)
        if answer.decisive is not None:
            message = render_answer(answer, asked=query, shareable=True)
            count_reply(answer)
        elif (family := engine.family(query)) is not None:
            message = render_family(query, family)
        else:
            message, outcome = render_nothing_found(query), "not_found"
            count_unrecognized("command")
    sent = respond_with(respond, message, response_type="ephemeral")
    return outcome if sent else "error"
