"""Block actions: the buttons under errdesk's answers."""

import re

from slack_bolt import App

from bot.listeners.actions.feedback import handle_feedback
from bot.listeners.actions.more_steps import handle_more_steps
from bot.listeners.actions.share import handle_share
from bot.render.blocks import ACTION_MORE, ACTION_SHARE, VOTES


def register(app: App) -> None:
    app.action(ACTION_SHARE)(handle_share)
    app.action(ACTION_MORE)(handle_more_steps)
    app.action(re.compile("^(?:" + "|".join(map(re.escape, VOTES)) + ")$"))(handle_feedback)
