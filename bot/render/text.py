"""Answers as plain text: the terminal, and the fallback text of Slack messages."""

from __future__ import annotations

import textwrap

from bot.engine import Answer, Entry
from bot.render.shape import outline

NOTHING_FOUND = (
    "I could not find an FTP, SFTP, HTTP or socket error in that. Paste the exact error line "
    "or the client's log, or ask for a code directly (for example: 425, sftp 3, ECONNRESET)."
)
WIDTH = 92


def render_text(answer: Answer, *, full: bool = False, more: str = "") -> str:
    """The answer as the terminal shows it: short, or with `full` every step and related code.

    `more` says how to ask for the rest ("errdesk explain --full"), named when steps are left.
    """
    if answer.decisive is None:
        return NOTHING_FOUND
    entry = answer.decisive
    shape = outline(answer, full=full)
    lines = [heading(entry)]
    if shape.seen:
        lines.append(f"Seen {shape.seen}.")
    lines += ["", _wrap(entry.meaning), "", f"Who can fix it: {answer.verdict_line}"]
    if shape.because:
        lines.append(_wrap(because_line(shape.because)))
    if shape.steps:
        lines += ["", "What to do:"]
        for number, step in enumerate(shape.steps, start=1):
            lines.append(_wrap(step, initial=f"  {number}. ", subsequent="     "))
    if shape.hidden_steps and more:
        lines.append(f"  ({more_steps_note(shape.hidden_steps)}: {more})")
    if shape.alternatives:
        lines += ["", "Could also be: " + "; ".join(heading(e) for e in shape.alternatives)]
    if shape.related:
        lines += ["", "Worth reading next: " + ", ".join(e.label for e in shape.related)]
    if answer.secrets:
        lines += ["", secret_warning(answer.secrets)]
    return "\n".join(lines)


def because_line(because: str) -> str:
    """What decided who can fix it, as the line under the verdict."""
    return f"Because {because.strip().rstrip('.')}."


def more_steps_note(hidden: int) -> str:
    return f"{hidden} more step{'s' if hidden != 1 else ''}"


def render_list(entries: list[Entry]) -> str:
    if not entries:
        return "No codes in that family."
    return "\n".join(f"{heading(entry)}  [{entry.verdict}]" for entry in entries)


def heading(entry: Entry) -> str:
    return f"{entry.label}: {entry.title}"


def secret_warning(kinds: tuple[str, ...]) -> str:
    return (
        f"Careful: this text shows {' and '.join(kinds)}. Delete the message, paste it again "
        "with the secret masked, and change that password or key."
    )


def _wrap(text: str, initial: str = "", subsequent: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=initial, subsequent_indent=subsequent)
