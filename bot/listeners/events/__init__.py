"""Events API listeners: mentions, direct messages and channel messages (file shares arrive
as messages). A direct message is matched first: the channel listener never sees it."""

from slack_bolt import App

from bot.listeners.events.app_mention import handle_app_mention
from bot.listeners.events.direct_message import handle_direct_message, is_direct
from bot.listeners.events.message import handle_message


def register(app: App) -> None:
    app.event("app_mention")(handle_app_mention)
    app.event("message", matchers=[is_direct])(handle_direct_message)
    app.event("message")(handle_message)
