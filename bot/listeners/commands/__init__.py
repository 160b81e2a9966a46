"""Slash command listeners."""

from slack_bolt import App

from bot.listeners.commands.errcode import handle_errcode

COMMAND = "/errcode"


def register(app: App) -> None:
    app.command(COMMAND)(handle_errcode)
