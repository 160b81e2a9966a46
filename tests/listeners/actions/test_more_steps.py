"""More steps: the short answer replaced in place by the full one, through the real Bolt app.

Each test signs Slack's request, dispatches it to the app `create_app` builds, and reads what the
app sent to the fake Slack: respond(replace_original) for a private /errcode answer, chat.update
for a reply in a thread.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.app import create_app
from bot.engine import Engine
from bot.render.blocks import ACTION_MORE, VOTES_BLOCK, with_votes
from bot.state import MemoryStore
from tests.conftest import (
    action_payload,
    command_form,
    event_body,
    make_settings,
    message_event,
)
from tests.fake_slack import SIGNING_SECRET, Call, FakeSlack

FILEZILLA = (
    "Command:\tPASV\nResponse:\t227 Entering Passive Mode (10,0,0,5,195,80)\n"
    "Command:\tMLSD\nError:\tConnection timed out after 20 seconds of inactivity\n"
    "Error:\tFailed to retrieve directory listing"
)


@pytest.fixture
def app(fake_slack: FakeSlack, engine: Engine) -> App:
    return create_app(make_settings(fake_slack), engine=engine, store=MemoryStore())


def dispatch(app: App, body: str, content_type: str) -> int:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
    headers = {
        "content-type": [content_type],
        "x-slack-request-timestamp": [stamp],
        "x-slack-signature": [signature],
    }
    return app.dispatch(BoltRequest(body=body, headers=headers)).status


def click(app: App, payload: dict[str, Any]) -> None:
    form = urlencode({"payload": json.dumps(payload)})
    assert dispatch(app, form, "application/x-www-form-urlencoded") == 200


def more_button(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    (button,) = [
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ACTION_MORE
    ]
    return button


def steps_in(call: Call) -> list[str]:
    return [line for line in call.text.splitlines() if line[:1].isdigit() and ". " in line[:4]]


def private_answer(app: App, fake: FakeSlack, text: str) -> Call:
    form = urlencode(command_form(text, fake.response_url("ask")))
    assert dispatch(app, form, "application/x-www-form-urlencoded") == 200
    (answer,) = fake.wait_for(lambda: [c for c in fake.responses() if c.method == "respond/ask"])
    return answer


def thread_reply(app: App, fake: FakeSlack, event: dict[str, Any]) -> Call:
    assert dispatch(app, json.dumps(event_body(event)), "application/json") == 200
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    return post


def test_more_steps_on_a_private_answer_replaces_it_through_the_response_url(
    app: App, fake_slack: FakeSlack
) -> None:
    short = private_answer(app, fake_slack, FILEZILLA)
    assert len(steps_in(short)) <= 3
    payload = action_payload(
        ACTION_MORE,
        more_button(short.body["blocks"])["value"],
        fake_slack.response_url("more"),
        ephemeral=True,
    )
    click(app, payload)
    (full,) = fake_slack.wait_for(
        lambda: [c for c in fake_slack.responses() if c.method == "respond/more"]
    )
    assert full.body["replace_original"] is True
    assert len(steps_in(full)) > len(steps_in(short))
    assert ACTION_MORE not in json.dumps(full.body["blocks"])
    assert "Share in channel" in full.text  # still the private answer, still shareable
    assert fake_slack.calls_to("chat.update") == []


def expand_reply(app: App, fake: FakeSlack, event: dict[str, Any], reply: dict[str, Any]) -> Call:
    """Click More steps on `reply` (the bot's message in the thread of `event`); the update."""
    fake.add_thread(event["channel"], event["ts"], [event])
    payload = action_payload(
        ACTION_MORE,
        more_button(reply["blocks"])["value"],
        fake.response_url("more"),
        channel=event["channel"],
        message=reply,
    )
    click(app, payload)
    (update,) = fake.wait_for(lambda: fake.calls_to("chat.update"))
    return update


def test_more_steps_on_a_thread_reply_updates_that_reply(app: App, fake_slack: FakeSlack) -> None:
    event = message_event(FILEZILLA)
    short = thread_reply(app, fake_slack, event)
    assert len(steps_in(short)) <= 3
    value = more_button(short.body["blocks"])["value"]
    assert "MLSD" not in value, "the button names the message; it does not copy its text"
    reply = {"ts": "1700000999.000100", "text": short.body["text"], "blocks": short.body["blocks"]}
    update = expand_reply(app, fake_slack, event, reply)
    assert update.body["ts"] == reply["ts"]
    assert update.body["channel"] == event["channel"]
    assert len(steps_in(update)) > len(steps_in(short))
    assert ACTION_MORE not in json.dumps(update.body["blocks"])


def test_a_vote_already_shown_stays_when_the_reply_expands(app: App, fake_slack: FakeSlack) -> None:
    event = message_event(FILEZILLA)
    short = thread_reply(app, fake_slack, event)
    voted = with_votes(short.body["blocks"], "helpful", {"helpful": 1, "not_it": 0})
    reply = {"ts": "1700000998.000100", "text": short.body["text"], "blocks": voted}
    update = expand_reply(app, fake_slack, event, reply)
    assert any(b.get("block_id") == VOTES_BLOCK for b in update.body["blocks"])


def test_a_deleted_message_is_not_expanded_and_the_person_is_told(
    app: App, fake_slack: FakeSlack
) -> None:
    event = message_event(FILEZILLA)
    short = thread_reply(app, fake_slack, event)
    fake_slack.add_thread(event["channel"], event["ts"], [])  # the message is gone
    click(
        app,
        action_payload(
            ACTION_MORE,
            more_button(short.body["blocks"])["value"],
            fake_slack.response_url("gone"),
            channel=event["channel"],
        ),
    )
    (told,) = fake_slack.wait_for(
        lambda: [c for c in fake_slack.responses() if c.method == "respond/gone"]
    )
    assert "no longer there" in told.text
    assert told.body["response_type"] == "ephemeral"
    assert fake_slack.calls_to("chat.update") == []
