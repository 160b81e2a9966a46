"""Answers as plain text: the terminal, and the fallback text of Slack messages."""

from __future__ import annotations

import textwrap

from bot.engine import Answer, Entry
from bot.engine.logs import FailureContext

NOTHING_FOUND = (
    "I could not find an FTP, SFTP, HTTP or socket error in that. Paste the exact error line "
    "or the client's log, or ask for a code directly (for example: 425, sftp 3, ECONNRESET)."
)
WIDTH = 92


def render_text(answer: Answer) -> str:
    if answer.decisive is None:
        return NOTHING_FOUND
    entry = answer.decisive
    lines = [heading(entry)]
    if note := context_note(answer.failure):
        lines.append(f"Seen {note}.")
    lines += ["", _wrap(entry.meaning), "", f"Who can fix it: {answer.verdict_line}"]
    if answer.steps:
        lines += ["", "What to do:"]
        for number, step in enumerate(answer.steps, start=1):
            lines.append(_wrap(step, initial=f"  {number}. ", subsequent="     "))
    if answer.alternatives:
        lines += ["", "Could also be: " + "; ".join(heading(e) for e in answer.alternatives)]
    if answer.related:
        lines += ["", "Worth reading next: " + ", ".join(e.label for e in answer.related)]
    if answer.secrets:
        lines += ["", secret_warning(answer.secrets)]
    return "\n".join(lines)


def render_list(entries: list[Entry]) -> str:
    if not entries:
        return "No codes in that family."
    return "\n".join(f"{heading(entry)}  [{entry.verdict}]" for entry in entries)


def heading(entry: Entry) -> str:
    return f"{entry.label}: {entry.title}"


def context_note(failure: FailureContext) -> str:
    """What triage saw around the failure, e.g. "after STOR, in passive mode, over TLS"."""
    parts = []
    if failure.command:
        parts.append(f"after {failure.command}")
    if failure.mode:
        parts.append(f"in {failure.mode} mode")
    if failure.tls:
        parts.append("over TLS")
    return ", ".join(parts)


def secret_warning(kinds: tuple[str, ...]) -> str:
    return (
        f"Careful: this text shows {' and '.join(kinds)}. Delete the message, paste it again "
        "with the secret masked, and change that password or key."
    )


def _wrap(text: str, initial: str = "", subsequent: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=initial, subsequent_indent=subsequent)
