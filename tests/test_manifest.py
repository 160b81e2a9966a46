"""manifest.yml asks Slack for exactly what the listeners handle, at the server's one path."""

from __future__ import annotations

import re
from pathlib import Path

from bot.listeners.commands import COMMAND
from bot.listeners.shortcuts import EXPLAIN_MESSAGE
from bot.server import SLACK_PATH

MANIFEST = (Path(__file__).resolve().parent.parent / "manifest.yml").read_text(encoding="utf-8")


def listed(section: str) -> set[str]:
    """The `- item` lines under `section:` (comments skipped), up to the next key."""
    lines = MANIFEST.split(f"{section}:\n", 1)[1].splitlines()
    items = set()
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if not stripped.startswith("- "):
            break
        items.add(stripped[2:].split()[0])
    return items


def test_the_slash_command_is_the_one_registered() -> None:
    assert f"- command: {COMMAND}\n" in MANIFEST


def test_the_message_shortcut_is_the_one_registered() -> None:
    shortcut = MANIFEST.split("  shortcuts:\n", 1)[1].split("\n\n", 1)[0]
    assert "    - name: Explain with errdesk\n" in shortcut
    assert "      type: message\n" in shortcut
    assert f"      callback_id: {EXPLAIN_MESSAGE}\n" in shortcut


def test_events_match_the_listeners() -> None:
    assert listed("bot_events") == {
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
    }


def test_scopes_are_only_those_needed() -> None:
    assert listed("bot") == {
        "app_mentions:read",
        "chat:write",
        "commands",
        "channels:history",
        "groups:history",
        "im:history",
        "files:read",
    }


def test_every_request_url_is_the_server_path() -> None:
    urls = re.findall(r"(?:url|request_url): (\S+)", MANIFEST)
    assert len(urls) == 3
    assert all(url.startswith("https://") and url.endswith(SLACK_PATH) for url in urls)
    assert "interactivity:\n" in MANIFEST
    assert "is_enabled: true" in MANIFEST


def test_direct_messages_can_be_written_to_errdesk() -> None:
    assert "messages_tab_enabled: true" in MANIFEST
    assert "messages_tab_read_only_enabled: false" in MANIFEST, "a read-only tab takes no question"
