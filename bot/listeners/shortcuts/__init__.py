"""Shortcut listeners: "Explain with errdesk" in a message's "More actions" menu."""

from slack_bolt import App

from bot.listeners.shortcuts.explain_message import handle_explain_message

# The callback_id of the message shortcut in manifest.yml: Slack sends it with every click.
EXPLAIN_MESSAGE = "explain_message"


def register(app: App) -> None:
    app.message_shortcut(EXPLAIN_MESSAGE)(handle_explain_message)
