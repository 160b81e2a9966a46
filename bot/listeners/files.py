"""Text files and snippets shared in Slack: fetched, bounded, for the engine to triage.

Only text is read (.log, .txt, text/* types, snippets), at most `MAX_FILE_BYTES` each, and only
from Slack's own hosts: the bot token goes in the Authorization header, so it must never be
sent to a URL anywhere else, nor follow a redirect to one.

One message's work is bounded: at most `MAX_FILES` files and `MAX_MESSAGE_CHARS` of text in
all, its own words included. A file whose first bytes are not text (a binary dump named .log)
is left after those bytes; a file beyond the budget is read by its end, where a log's failure
is. What was left out comes back as notes, for the reply to say.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.error import URLError
from urllib.parse import urlparse

from slack_sdk.web import WebClient

from bot import metrics
from bot.decoding import decode_text, looks_binary
from bot.listeners.slack_calls import call

log = logging.getLogger("errdesk.files")

MAX_FILE_BYTES = 1_000_000
MAX_FILES = 3
MAX_MESSAGE_CHARS = 1_500_000
# The first bytes of a file tell text from binary (bot.decoding.looks_binary).
SNIFF_BYTES = 8_192
DOWNLOAD_TIMEOUT = 10.0
TEXT_FILETYPES = frozenset({"text", "txt", "log", "csv"})
TEXT_SUFFIXES = (".log", ".txt", ".out", ".err")


@dataclass
class SharedText:
    """The text read from a message's files, and what was left out of it (for the reply)."""

    texts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Why files could not be read at all (Slack's error, or the download's failure): not said
    # in a reply, but a message read again for a draft is not the message errdesk decided on.
    failures: list[str] = field(default_factory=list)


def shared_text(
    client: WebClient,
    files: Iterable[Mapping[str, Any]],
    api_url: str,
    budget: int = MAX_MESSAGE_CHARS,
) -> SharedText:
    """The contents of the text files among `files` (a message's `files`), in order, within
    `budget` characters in all."""
    shared = SharedText()
    files = list(files)
    for listed in files[:MAX_FILES]:
        file_id = listed.get("id")
        if not isinstance(file_id, str):
            continue
        response = call("files.info", client.files_info, shared.failures.append, file=file_id)
        info = response.get("file") if response is not None else None
        if not isinstance(info, Mapping) or not is_text_file(info):
            continue
        name = str(info.get("name") or file_id)
        size = announced_size(info)
        if size is not None and size > MAX_FILE_BYTES:
            _left_out(shared, "too_large", f"{name}: larger than {_size(MAX_FILE_BYTES)}, not read")
            continue
        url = info.get("url_private_download") or info.get("url_private")
        if not isinstance(url, str) or not trusted_url(url, api_url):
            log.warning("Skipped a shared file whose URL is not on a Slack host")
            metrics.FILES_SKIPPED.labels(reason="untrusted_url").inc()
            continue
        if budget <= 0:
            _left_out(shared, "over_budget", f"{name}: not read, the message's limit was reached")
            continue
        body = _download(url, client.token or "")
        if body is None:
            shared.failures.append("download_failed")
            continue
        if isinstance(body, _Refused):
            _left_out(shared, body.reason, f"{name}: {body.note}")
            continue
        text = decode_text(body)
        if len(text) > budget:
            text = text[text.find("\n", len(text) - budget) + 1 :]
            _left_out(shared, "cut", f"{name}: only its last {_size(len(text))} read")
        budget -= len(text)
        shared.texts.append(text)
    if len(files) > MAX_FILES:
        more = len(files) - MAX_FILES
        _left_out(shared, "over_budget", f"{more} more file{'s' if more > 1 else ''} not read")
    return shared


def _left_out(shared: SharedText, reason: str, note: str) -> None:
    metrics.FILES_SKIPPED.labels(reason=reason).inc()
    shared.notes.append(note)


# From this many bytes on, a size reads better in megabytes ("0.1 MB" rather than "100 KB").
MEGABYTES_FROM = 100_000


def _size(count: int) -> str:
    if count >= MEGABYTES_FROM:
        return f"{count / 1_000_000:.1f} MB"
    return f"{max(1, count // 1000)} KB"


def is_text_file(info: Mapping[str, Any]) -> bool:
    name = str(info.get("name") or "").lower()
    return (
        str(info.get("mimetype") or "").startswith("text/")
        or info.get("filetype") in TEXT_FILETYPES
        or info.get("mode") == "snippet"
        or name.endswith(TEXT_SUFFIXES)
    )


def announced_size(info: Mapping[str, Any]) -> int | None:
    """The size files.info gives, or None when it gives none that reads as a byte count: the
    download is bounded by MAX_FILE_BYTES all the same."""
    size = info.get("size")
    if isinstance(size, bool):
        return None
    if isinstance(size, int):
        return size
    if isinstance(size, str) and size.strip().isdigit():
        return int(size)
    return None


@dataclass(frozen=True)
class _Refused:
    """A download stopped on purpose: why, for the metric and for the reply."""

    reason: str
    note: str


def trusted_url(url: str, api_url: str) -> bool:
    """Slack's file hosts over HTTPS, or the very host SLACK_API_URL names (a test fake)."""
    parsed, api = urlparse(url), urlparse(api_url)
    host = (parsed.hostname or "").lower()
    if parsed.scheme == api.scheme and parsed.netloc == api.netloc:
        return True
    return parsed.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would carry the Authorization header along a redirect to any host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _download(url: str, token: str) -> bytes | _Refused | None:
    """The file's bytes; a refusal when they are not text or too many; None when it failed."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with _opener.open(request, timeout=DOWNLOAD_TIMEOUT) as response:
            body: bytes = response.read(SNIFF_BYTES)
            if looks_binary(body):
                return _Refused("not_text", "not text (binary content), skipped")
            body += response.read(MAX_FILE_BYTES + 1 - len(body))
    except (URLError, OSError, ValueError) as error:
        metrics.slack_call_failed("url_private", type(error).__name__)
        return None
    if len(body) > MAX_FILE_BYTES:
        return _Refused("too_large", f"larger than {_size(MAX_FILE_BYTES)}, not read")
    return body
