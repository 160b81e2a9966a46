""" "Explain with errdesk": acknowledged first, any message explained privately, shareable in
its thread, errdesk's own answers left alone."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot import metrics
from bot.listeners.actions.share import handle_share
from bot.listeners.shortcuts.explain_message import OWN_ANSWER, handle_explain_message
from bot.render.blocks import ACTION_SHARE, Expansion, Explained, read_share_value
from bot.render.text import NOTHING_FOUND
from tests.conftest import Bot, action_payload, shortcut_payload
from tests.fake_slack import BOT_ID, BOT_USER_ID, texts

ERROR = "Response: 425 Can't open data connection."
SECRET_LOG = "Command: PASS hunter22\nResponse: 530 Login incorrect."
# A passive reply with a private address before a failed listing: the situation decides the
# verdict, so only an answer read from the whole log says who can fix it.
PASSIVE_LOG = (
    "Command:\tPASV\nResponse:\t227 Entering Passive Mode (10,0,0,5,195,80)\n"
    "Command:\tMLSD\nError:\tConnection timed out after 20 seconds of inactivity"
)


def pick(bot: Bot, text: str, **message: Any) -> dict[str, Any]:
    """Pick a message saying `text` with the shortcut; the one private answer it got."""
    payload = shortcut_payload(text, bot.fake.response_url("picked"), **message)
    handle_explain_message(ack=bot.ack, shortcut=payload, client=bot.client, context=bot.context)
    (response,) = bot.responses
    return response


def shown(response: dict[str, Any]) -> str:
    return "\n".join([str(response.get("text") or ""), *texts(response.get("blocks") or [])])


def verdict_of(lines: list[str]) -> list[str]:
    """The answer's heading and who can fix it, and why."""
    return [line for line in lines if line.startswith(("WINSOCK", "FTP")) or "Because" in line]


def share_of(response: dict[str, Any]) -> Expansion | None:
    (share,) = [e for e in response["blocks"][-1]["elements"] if e["action_id"] == ACTION_SHARE]
    return read_share_value(share["value"])


def test_the_shortcut_is_acknowledged_before_any_work(bot: Bot) -> None:
    pick(bot, ERROR)
    assert bot.order == ["ack", "respond"], "Slack gives up on a shortcut after 3 seconds"
    assert bot.acks == [()], "an empty acknowledgement: the answer follows separately"


def test_the_picked_message_is_answered_privately(bot: Bot) -> None:
    response = pick(bot, ERROR)
    assert response["response_type"] == "ephemeral", "only the person who picked it sees it"
    assert response["blocks"][0]["text"]["text"].startswith("FTP 425")


def test_the_answer_is_not_presented_as_a_command(bot: Bot) -> None:
    response = pick(bot, ERROR)
    assert "asked `/errcode" not in shown(response), "the message was never a /errcode query"


def test_share_posts_in_the_thread_of_a_message_at_the_channel_root(bot: Bot) -> None:
    payload_ts = "1700000000.000500"
    response = pick(bot, ERROR, ts=payload_ts)
    assert share_of(response) == Expansion(query=ERROR, picked=Explained(payload_ts, payload_ts))


def test_share_posts_in_the_thread_a_picked_reply_is_in(bot: Bot) -> None:
    response = pick(bot, ERROR, thread_ts="1700000000.000001")
    shared = share_of(response)
    assert shared is not None, "the answer can be shared"
    assert shared.picked is not None, "the answer names the picked message"
    assert shared.picked.thread_ts == "1700000000.000001"


def test_a_message_with_no_error_gets_the_nothing_found_answer(bot: Bot) -> None:
    response = pick(bot, "lunch at noon?")
    assert response["response_type"] == "ephemeral"
    assert NOTHING_FOUND in shown(response)
    assert "Nothing matched `lunch at noon?`" in shown(response)
    assert "/errcode 425" in shown(response), "and how to ask in a way that works"


def test_a_message_with_no_text_gets_nothing_found_rather_than_usage(bot: Bot) -> None:
    response = pick(bot, "")
    assert NOTHING_FOUND in shown(response)
    assert "Only you see the answer" not in shown(response), "not /errcode's usage"


def test_a_ci_bots_message_is_explained(bot: Bot) -> None:
    response = pick(bot, f"Deploy failed: {ERROR}", user=None, bot_id="B0CIBOT01")
    assert response["blocks"][0]["text"]["text"].startswith("FTP 425")


def test_errdesks_own_answer_is_not_explained_again(bot: Bot) -> None:
    response = pick(bot, "FTP 425: Can't open data connection. Who can fix it", user=BOT_USER_ID)
    assert response["text"] == OWN_ANSWER.text
    assert response["response_type"] == "ephemeral"


def test_a_ci_bots_failure_in_an_attachment_is_explained(bot: Bot) -> None:
    attachment = {"color": "danger", "title": "deploy #812 failed", "text": ERROR}
    response = pick(bot, "", user=None, bot_id="B0CIBOT01", attachments=[attachment])
    assert response["blocks"][0]["text"]["text"].startswith("FTP 425"), shown(response)


def test_errdesks_own_answer_is_known_by_its_bot_id_too(bot: Bot) -> None:
    bot.context["bot_id"] = BOT_ID
    response = pick(bot, "FTP 425: Can't open data connection.", user=None, bot_id=BOT_ID)
    assert response["text"] == OWN_ANSWER.text


def test_a_shared_text_file_is_read(bot: Bot) -> None:
    bot.fake.add_file("F0PICKED1", b"Command: STOR a.csv\nResponse: 553 File name not allowed.\n")
    response = pick(bot, "see log", files=[{"id": "F0PICKED1"}])
    assert response["blocks"][0]["text"]["text"].startswith("FTP 553")


def test_a_file_left_out_is_said_in_the_answer(bot: Bot) -> None:
    bot.fake.add_file("F0PICKED2", b"\x00\x01binary", name="dump.log")
    response = pick(bot, ERROR, files=[{"id": "F0PICKED2"}])
    assert "dump.log: not text" in shown(response)


def test_a_secret_in_the_message_is_not_echoed_nor_shared(bot: Bot) -> None:
    response = pick(bot, SECRET_LOG)
    assert "hunter22" not in json.dumps(response)
    assert "Delete the message" in shown(response), "the one who picked it is told"
    shared = share_of(response)
    assert shared is not None
    assert shared.query == "ftp 530", "Share answers the code alone"


def test_the_poster_of_a_secret_someone_else_picked_is_warned_privately(bot: Bot) -> None:
    pick(bot, SECRET_LOG, user="U0POSTER1")
    (warning,) = bot.fake.calls_to("chat.postEphemeral")
    assert warning.body["user"] == "U0POSTER1", "only the poster can delete the message"
    assert "hunter22" not in json.dumps(warning.body)


def test_whoever_picked_their_own_secret_is_warned_once_in_the_answer(bot: Bot) -> None:
    pick(bot, SECRET_LOG)
    assert bot.fake.calls_to("chat.postEphemeral") == [], "the private answer warns already"


def test_a_mention_of_errdesk_in_the_message_is_not_read_as_text(bot: Bot) -> None:
    response = pick(bot, f"<@{BOT_USER_ID}> help")
    assert "Only you see the answer" in shown(response), "the words left are 'help'"


def test_it_is_counted_as_a_shortcut(bot: Bot) -> None:
    replied = metrics.REQUESTS.labels(kind="shortcut", outcome="replied")
    before = replied._value.get()
    pick(bot, ERROR)
    assert replied._value.get() == before + 1


@pytest.mark.usefixtures("broken_engine")
def test_a_failure_on_our_side_is_said_privately_without_its_details(bot: Bot) -> None:
    errors = metrics.REQUESTS.labels(kind="shortcut", outcome="error")
    before = errors._value.get()
    response = pick(bot, ERROR)
    assert response["response_type"] == "ephemeral"
    assert "Something went wrong on my side" in shown(response)
    assert "hunter22" not in json.dumps(response)
    assert errors._value.get() == before + 1


def test_a_picked_log_too_long_for_a_button_is_shared_with_the_answer_that_was_seen(
    bot: Bot,
) -> None:
    log = "\n".join(
        [
            *(f"Status:\tRetrieving directory listing of /site/{n}..." for n in range(60)),
            PASSIVE_LOG,
        ]
    )
    ts = "1700000000.000700"
    bot.fake.add_thread(
        "C0OTHER01", ts, [{"type": "message", "user": "U0OTHER01", "text": log, "ts": ts}]
    )
    private = pick(bot, log, ts=ts)
    (share,) = [e for e in private["blocks"][-1]["elements"] if e["action_id"] == ACTION_SHARE]
    assert len(share["value"]) < len(log), "the button names the message, it does not copy it"
    body = action_payload(
        ACTION_SHARE, share["value"], bot.fake.response_url("shared"), ephemeral=True
    )
    bot.act(handle_share, body)
    (post,) = bot.fake.posts()
    assert post.body["thread_ts"] == ts, "shared beside the picked message"
    seen, shared = list(texts(private["blocks"])), list(texts(post.body["blocks"]))
    assert verdict_of(shared) == verdict_of(seen), (
        "the shared answer is the one seen privately, not the code's generic one"
    )


def missed_reports(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "errdesk.decision" and getattr(record, "asked_after_silence", False)
    ]


def test_asking_about_a_message_the_auto_reply_left_unanswered_logs_the_miss(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    quoted = "We changed the upload code so a 425 from the server is retried once."
    with caplog.at_level(logging.INFO, logger="errdesk.decision"):
        pick(bot, quoted, channel="C0HELP001")
    (line,) = missed_reports(caplog)
    assert ": no reply, ftp 425 (" in line, f"the decision it had made, to label later: {line}"
    assert "C0HELP001:" in line, f"the channel and ts name the message: {line}"
    assert "retried once" not in line, "the message's text is never logged"


def test_asking_about_a_message_the_auto_reply_answered_logs_no_miss(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="errdesk.decision"):
        pick(bot, ERROR, channel="C0HELP001")
    assert missed_reports(caplog) == [], "errdesk would have answered it unasked: no miss"


def test_asking_about_a_message_outside_the_auto_reply_channels_logs_no_miss(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    quoted = "We changed the upload code so a 425 from the server is retried once."
    with caplog.at_level(logging.INFO, logger="errdesk.decision"):
        pick(bot, quoted)
    assert missed_reports(caplog) == [], "errdesk never decides unasked in that channel"


def test_asking_about_a_message_that_mentions_errdesk_logs_no_miss(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    quoted = f"<@{BOT_USER_ID}> we changed the upload code so a 425 is retried once."
    with caplog.at_level(logging.INFO, logger="errdesk.decision"):
        pick(bot, quoted, channel="C0HELP001")
    assert missed_reports(caplog) == [], "a mention is answered by the mention listener"


def test_asking_about_a_helpers_message_in_a_thread_logs_no_miss(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="errdesk.decision"):
        pick(bot, ERROR, channel="C0HELP001", thread_ts="1700000300.000100", parent_user_id="U0X")
    assert missed_reports(caplog) == [], "a rule kept it quiet: no label changes a rule"
