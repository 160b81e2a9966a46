"""Log output: JSON lines with extra fields, plain text, and Slack tokens never written."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import load_settings
from bot.logging_setup import configure_logging, redact

BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-abcdef0123456789"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A stream to log into; the root logger is put back as it was afterwards."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    yield stream
    for handler in list(root.handlers):
        if getattr(handler, "stream", None) is stream:
            root.removeHandler(handler)
    root.setLevel(level)


def log_lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_format_writes_one_object_per_line_with_extra_fields(stream: io.StringIO) -> None:
    configure_logging(load_settings({"ERRDESK_LOG_FORMAT": "json"}), stream)
    logging.getLogger("bot.requests").info(
        "handled %s", "mention", extra={"kind": "mention", "latency_ms": 12.5}
    )
    logging.getLogger("bot.other").warning("second line")
    first, second = (json.loads(line) for line in log_lines(stream))
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.requests"
    assert first["message"] == "handled mention"
    assert (first["kind"], first["latency_ms"]) == ("mention", 12.5)
    assert first["time"].endswith("+00:00")
    assert second["message"] == "second line"


def test_json_format_keeps_exceptions_on_one_line(stream: io.StringIO) -> None:
    configure_logging(load_settings({"ERRDESK_LOG_FORMAT": "json"}), stream)
    try:
        raise ValueError("bad value")
    except ValueError:
        logging.getLogger("bot").exception("failed")
    [line] = log_lines(stream)
    assert "ValueError: bad value" in json.loads(line)["exception"]


def test_text_format_and_level_come_from_the_settings(stream: io.StringIO) -> None:
    configure_logging(load_settings({"ERRDESK_LOG_LEVEL": "warning"}), stream)
    logging.getLogger("bot").info("hidden")
    logging.getLogger("bot").warning("shown")
    [line] = log_lines(stream)
    assert line.endswith("WARNING bot: shown")


def test_configuring_twice_does_not_duplicate_lines(stream: io.StringIO) -> None:
    configure_logging(load_settings({}), io.StringIO())
    configure_logging(load_settings({}), stream)
    logging.getLogger("bot").warning("once")
    assert len(log_lines(stream)) == 1
    assert sum(type(h).__name__ == "_ErrdeskHandler" for h in logging.getLogger().handlers) == 1


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_tokens_are_redacted_from_messages_arguments_extras_and_tracebacks(
    stream: io.StringIO, log_format: str
) -> None:
    configure_logging(load_settings({"ERRDESK_LOG_FORMAT": log_format}), stream)
    logger = logging.getLogger("slack_sdk.web")
    logger.warning(f"Authorization: Bearer {BOT_TOKEN}")
    logger.warning("app token %s", APP_TOKEN, extra={"token": BOT_TOKEN})
    try:
        raise RuntimeError(f"invalid_auth for {BOT_TOKEN}")
    except RuntimeError:
        logger.exception("call failed")
    written = stream.getvalue()
    assert "xoxb-" not in written
    assert "xapp-" not in written
    assert written.count("[redacted]") >= 3


def test_redact_covers_every_kind_of_slack_token() -> None:
    for token in ("xoxb-1-2-x", "xoxp-1-2", "xoxa-2-x", "xoxr-x", "xoxe.xoxp-1-abc", APP_TOKEN):
        assert "[redacted]" in redact(f"token={token};")
        assert token not in redact(f"token={token};")
    assert redact("an xoxb word and a 425 reply") == "an xoxb word and a 425 reply"
