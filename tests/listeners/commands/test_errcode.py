"""/errcode: acknowledged first, answered privately, with usage, families and both readings."""

from __future__ import annotations

import json

import pytest

from bot import metrics
from bot.listeners.commands.errcode import handle_errcode
from bot.render.blocks import ACTION_SHARE, Expansion, read_share_value
from tests.conftest import Bot, command_form


def run(bot: Bot, text: str) -> dict:
    form = command_form(text, bot.fake.response_url("cmd"))
    handle_errcode(ack=bot.ack, command=form, context=bot.context)
    (response,) = bot.responses
    return response


def shown(response: dict) -> str:
    texts = [response.get("text", "")]
    for block in response.get("blocks", []):
        text = block.get("text")
        if isinstance(text, dict):
            texts.append(text["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                texts.append(element["text"])
    return "\n".join(texts)


def test_the_command_is_acknowledged_before_any_work(bot: Bot) -> None:
    run(bot, "425")
    assert bot.order == ["ack", "respond"]
    assert bot.acks == [()]  # an empty acknowledgement: the answer follows separately


def test_the_answer_is_private_and_can_be_shared(bot: Bot) -> None:
    response = run(bot, "425")
    assert response["response_type"] == "ephemeral"
    assert response["blocks"][0]["text"]["text"].startswith("FTP 425")
    buttons = response["blocks"][-1]["elements"]
    assert buttons[0]["action_id"] == ACTION_SHARE
    assert "asked `/errcode 425`" in shown(response)


def test_an_ambiguous_code_gives_both_readings(bot: Bot) -> None:
    text = shown(run(bot, "500"))
    assert "FTP 500" in text
    assert "HTTP 500" in text


def test_names_and_phrases_are_looked_up(bot: Bot) -> None:
    assert "WINSOCK 10060" in shown(run(bot, "WSAETIMEDOUT"))
    bot.responses.clear()
    assert "WINSOCK 10054" in shown(run(bot, "connection reset"))
    bot.responses.clear()
    response = run(bot, "sftp 3")
    assert response["blocks"][0]["text"]["text"].startswith("SFTP 3:")


def test_no_text_or_help_gives_usage(bot: Bot) -> None:
    for text in ("", "help", "  HELP "):
        bot.responses.clear()
        response = run(bot, text)
        assert "/errcode list ftp 5xx" in shown(response)
        assert response["response_type"] == "ephemeral"


def test_a_family_is_listed(bot: Bot) -> None:
    text = shown(run(bot, "list ftp 5xx"))
    assert "FTP 550" in text
    assert "FTP 530" in text
    assert "FTP 425" not in text


def test_list_without_a_family_gives_usage(bot: Bot) -> None:
    assert "/errcode list ftp 5xx" in shown(run(bot, "list everything"))


def test_nothing_found_says_so_and_how_to_ask(bot: Bot) -> None:
    text = shown(run(bot, "asdf qwerty zxcv"))
    assert "Nothing matched `asdf qwerty zxcv`" in text
    assert "/errcode 425" in text


def test_a_query_holding_a_secret_is_not_echoed_nor_shared(bot: Bot) -> None:
    response = run(bot, "Command: PASS hunter22\nResponse: 530 Login incorrect.")
    assert response["blocks"][0]["text"]["text"].startswith("FTP 530")
    assert "hunter22" not in json.dumps(response)
    assert "Delete the message" in shown(response)
    share = response["blocks"][-1]["elements"][0]
    assert share["action_id"] == ACTION_SHARE
    assert read_share_value(share["value"]) == Expansion(query="ftp 530")


def test_nothing_found_in_a_query_holding_a_secret_warns_without_echoing(bot: Bot) -> None:
    response = run(bot, "can you check ftp://bob:hunter22@files.example.com")
    assert "hunter22" not in json.dumps(response)
    text = shown(response)
    assert "Delete the message" in text
    assert "/errcode 425" in text


def test_a_rate_limited_response_url_is_retried_after_retry_after(bot: Bot) -> None:
    bot.fake.fail("respond/cmd", status=429, retry_after=1)
    response = run(bot, "425")
    assert response["blocks"][0]["text"]["text"].startswith("FTP 425")
    attempts = bot.fake.responses()
    assert [call.status for call in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0


@pytest.mark.usefixtures("broken_engine")
def test_a_failure_on_our_side_is_said_privately_without_its_details(bot: Bot) -> None:
    errors = metrics.REQUESTS.labels(kind="command", outcome="error")
    before = errors._value.get()
    response = run(bot, "425")
    assert response["response_type"] == "ephemeral"
    assert "Something went wrong on my side" in shown(response)
    assert "/errcode &lt;code&gt;" in shown(response)
    assert "hunter22" not in json.dumps(response)
    assert "RuntimeError" not in json.dumps(response)
    assert errors._value.get() == before + 1


def test_a_tls_alert_is_looked_up(bot: Bot) -> None:
    response = run(bot, "tls 48")
    assert response["blocks"][0]["text"]["text"].startswith("TLS 48")


def test_a_curl_exit_code_is_looked_up(bot: Bot) -> None:
    response = run(bot, "curl 28")
    assert response["blocks"][0]["text"]["text"].startswith("CURL 28")


def test_a_tls_family_is_listed(bot: Bot) -> None:
    text = shown(run(bot, "list tls 4x"))
    assert "TLS 48" in text
    assert "TLS 70" not in text


def test_a_whole_protocol_is_listed(bot: Bot) -> None:
    text = shown(run(bot, "list ssh"))
    assert "*SSH 1* host not allowed to connect" in text
    assert "SSH 14" in text
