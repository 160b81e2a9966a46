"""Text files and snippets shared in Slack: fetched, size-bounded, for the engine to triage.

Only text is read (.log, .txt, text/* types, snippets), at most `MAX_FILE_BYTES` each, and only
from Slack's own hosts: the bot token goes in the Authorization header, so it must never be
sent to a URL anywhere else, nor follow a redirect to one.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.error import URLError
from urllib.parse import urlparse

from slack_sdk.web import WebClient

from bot import metrics
from bot.decoding import decode_text
from bot.listeners.slack_calls import call

log = logging.getLogger("errdesk.files")

MAX_FILE_BYTES = 1_000_000
MAX_FILES = 3
DOWNLOAD_TIMEOUT = 10.0
TEXT_FILETYPES = frozenset({"text", "txt", "log", "csv"})
TEXT_SUFFIXES = (".log", ".txt", ".out", ".err")


def shared_text(client: WebClient, files: Iterable[Mapping[str, Any]], api_url: str) -> list[str]:
    """The contents of the text files among `files` (a message's `files`), in order."""
    texts = []
    for shared in list(files)[:MAX_FILES]:
        file_id = shared.get("id")
        if not isinstance(file_id, str):
            continue
        response = call("files.info", client.files_info, file=file_id)
        info = response.get("file") if response is not None else None
        if not isinstance(info, Mapping) or not is_text_file(info):
            continue
        size = announced_size(info)
        if size is not None and size > MAX_FILE_BYTES:
            log.info("Skipped a shared file larger than %d bytes", MAX_FILE_BYTES)
            continue
        url = info.get("url_private_download") or info.get("url_private")
        if not isinstance(url, str) or not trusted_url(url, api_url):
            log.warning("Skipped a shared file whose URL is not on a Slack host")
            continue
        text = _download(url, client.token or "")
        if text is not None:
            texts.append(text)
    return texts


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


def _download(url: str, token: str) -> str | None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with _opener.open(request, timeout=DOWNLOAD_TIMEOUT) as response:
            body = response.read(MAX_FILE_BYTES + 1)
    except (URLError, OSError, ValueError) as error:
        log.warning("Could not download a shared file: %s", type(error).__name__)
        metrics.SLACK_API_ERRORS.labels(method="url_private", error=type(error).__name__).inc()
        return None
    if len(body) > MAX_FILE_BYTES:
        log.info("Skipped a shared file larger than %d bytes", MAX_FILE_BYTES)
        return None
    return decode_text(body)
