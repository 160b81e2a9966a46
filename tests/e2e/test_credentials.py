"""Credentials pasted into Slack are never repeated by errdesk: not in a thread reply, not in a
private /errcode answer, not in what Share posts, not in its logs at any level; the poster is
warned once, privately.

One server (at log level DEBUG, where libraries say the most) serves the module.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.render.blocks import ACTION_SHARE
from tests.conftest import HUMAN, action_payload, command_form, event_body, message_event
from tests.e2e.servers import ServerProcess, SlackSender, serve_env, serving
from tests.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

SECRET = "Hunter2pw"
# Every form in which a password was seen repeated, each with an error errdesk answers.
FORMS = {
    "curl": f"curl -u bob:{SECRET} ftp://files.example.com/in/ gives 530 Login incorrect",
    "lftp": f"lftp -u bob,{SECRET} files.example.com says 530 Login incorrect",
    "setting": f"with password={SECRET} in sync.ini the server answers 530 Login incorrect",
    "sshpass": f"sshpass -p {SECRET} sftp bob@files.example.com fails: SSH_FX_PERMISSION_DENIED",
    "psftp": f"psftp -pw {SECRET} bob@files.example.com fails: SSH_FX_PERMISSION_DENIED",
    "basic": "curl -H 'Authorization: Basic Ym9iOkh1bnRlcjJwdw==' https://dav.example.com/ "
    "gets HTTP/1.1 401 Unauthorized",
    "pass": f"ftp> pass {SECRET}\n530 Login incorrect.",
}
# What each form exposes, as it would be found in what errdesk sends.
EXPOSED = {name: ("Ym9iOkh1bnRlcjJwdw" if name == "basic" else SECRET) for name in FORMS}


@pytest.fixture(scope="module")
def server(fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("secrets") / "serve.log"
    env = serve_env(fake, ERRDESK_LOG_LEVEL="DEBUG", ERRDESK_LOG_FORMAT="json")
    with serving(env, log) as process:
        yield process


@pytest.fixture(scope="module")
def slack(server: ServerProcess) -> SlackSender:
    return SlackSender(server.url)


def sent(call_body: dict) -> str:
    """Everything in a request the bot sent: text, blocks, button values, metadata."""
    return json.dumps(call_body, ensure_ascii=False)


def ask_errcode(fake: FakeSlack, slack: SlackSender, text: str, name: str) -> dict:
    url = fake.response_url(f"secret-{name}")
    assert slack.command(command_form(text, url)).status == 200
    (answer,) = fake.wait_for(lambda: [c for c in fake.responses() if c.method.endswith(name)])
    return answer.body


@pytest.mark.parametrize("name", FORMS)
def test_a_thread_reply_never_repeats_the_credential(
    fake: FakeSlack, slack: SlackSender, name: str
) -> None:
    event = message_event(FORMS[name])
    slack.event(event_body(event))
    (post,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    assert EXPOSED[name] not in sent(post.body), f"the {name} credential is in the reply"


@pytest.mark.parametrize("name", FORMS)
def test_a_private_errcode_answer_never_repeats_the_credential(
    fake: FakeSlack, slack: SlackSender, name: str
) -> None:
    answer = ask_errcode(fake, slack, FORMS[name], f"ask-{name}")
    assert EXPOSED[name] not in sent(answer), f"the {name} credential is in the /errcode answer"


@pytest.mark.parametrize("name", FORMS)
def test_share_in_channel_never_posts_the_credential(
    fake: FakeSlack, slack: SlackSender, name: str
) -> None:
    answer = ask_errcode(fake, slack, FORMS[name], f"share-{name}")
    (button,) = [
        element
        for block in answer["blocks"]
        for element in block.get("elements", [])
        if element.get("action_id") == ACTION_SHARE
    ]
    channel = f"C0SHARE{list(FORMS).index(name)}"
    payload = action_payload(
        ACTION_SHARE, button["value"], fake.response_url(f"shared-{name}"), channel=channel
    )
    assert slack.action(payload).status == 200
    (post,) = fake.wait_for(lambda: [p for p in fake.posts() if p.body["channel"] == channel])
    assert EXPOSED[name] not in sent(post.body), f"Share posted the {name} credential"


def test_the_poster_is_warned_once_and_privately(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    duplicates = 'errdesk_requests_total{kind="message",outcome="duplicate"}'
    before = server.metric(duplicates)
    event = message_event(FORMS["curl"])
    body = event_body(event)
    slack.event(body)
    (warning,) = fake.wait_for(lambda: warnings_in(fake, event["ts"]))
    assert (warning.body["channel"], warning.body["user"]) == ("C0HELP001", HUMAN)
    assert "delete" in warning.body["text"].lower()
    (reply,) = fake.wait_for(lambda: fake.thread_posts(event["ts"]))
    assert "delete the message" not in sent(reply.body).lower(), "the public reply points at it"
    slack.event(body, retry_num=1)
    fake.wait_for(lambda: server.metric(duplicates) == before + 1)
    assert len(warnings_in(fake, event["ts"])) == 1, "Slack's retry warned a second time"


def warnings_in(fake: FakeSlack, thread_ts: str) -> list:
    return [c for c in fake.calls_to("chat.postEphemeral") if c.body.get("thread_ts") == thread_ts]


def test_no_log_line_at_any_level_holds_a_credential(
    fake: FakeSlack, slack: SlackSender, server: ServerProcess
) -> None:
    for name, text in FORMS.items():
        slack.event(event_body(message_event(text)))
        ask_errcode(fake, slack, text, f"log-{name}")
    fake.wait_for(lambda: server.log.count('"kind": "command"') >= len(FORMS))
    for name, exposed in EXPOSED.items():
        assert exposed not in server.log, f"the {name} credential is in the log"
