"""Process-wide logging: plain text for people, JSON lines for log pipelines, secrets redacted.

Set up once at start-up (`configure_logging`); every module then logs through the standard
`logging` module. Fields passed with `extra=` appear as keys of the JSON object.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from bot.engine.secrets import mask

if TYPE_CHECKING:
    from bot.config import Settings

# Bot, user, app-level, refresh and configuration tokens: xoxb-, xoxp-, xoxa-, xoxr-, xoxe-...
TOKEN_PATTERN = re.compile(r"\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]+")
REDACTED = "[redacted]"

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(
    {*vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)), "message", "asctime"}
)


def redact(text: str) -> str:
    """`text` with every Slack token replaced by a marker and every other credential errdesk
    recognises (passwords, Authorization headers, keys: `bot.engine.secrets`) masked."""
    return mask(TOKEN_PATTERN.sub(REDACTED, text))


class RedactTokens(logging.Filter):
    """Removes Slack tokens and credentials from a record's message, extra fields and
    traceback, at every level: a library's DEBUG line may hold a whole request body.

    Installed on the handler, so it sees records from every logger, libraries included.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_FIELDS and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_FIELDS and name not in entry:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class _ErrdeskHandler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs, told apart from others when reconfiguring."""


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Send all logging to `stream` (stderr) in the configured format and level.

    Calling it again replaces the handler it installed before rather than duplicating lines;
    handlers installed by others (a test harness, a server) are left alone. Returns the
    handler, for tests and for servers that share it.
    """
    handler = _ErrdeskHandler(stream or sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, _ErrdeskHandler):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    return handler
