"""Messages from a terminal or a pipe, whole: a pasted WinSCP dialog or log is one message.

In a terminal that offers bracketed paste (xterm and its kin, tmux, Windows Terminal, iTerm2),
the terminal marks a paste with ESC[200~ ... ESC[201~, so a paste with blank lines inside stays
one message and typed text ends at an empty line. Where the terminal offers no such marks, a
message ends explicitly: an empty line twice, or Ctrl-D. Piped input is one message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import BinaryIO, TextIO

from bot.decoding import decode_text

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
BRACKETED_PASTE_ON = "\x1b[?2004h"
BRACKETED_PASTE_OFF = "\x1b[?2004l"
PROMPT = "> "
CONTINUATION = "… "


def read_all(stream: TextIO) -> str:
    """Everything piped in, decoded as shared files are (a byte order mark decides)."""
    binary: BinaryIO | None = getattr(stream, "buffer", None)
    return decode_text(binary.read()) if binary is not None else stream.read()


def offers_bracketed_paste(stream: TextIO) -> bool:
    """Whether the terminal on `stream` marks pastes, as its terminfo entry says (BE)."""
    try:
        import curses
    except ImportError:
        return False
    try:
        curses.setupterm(fd=stream.fileno())
        return curses.tigetstr("BE") is not None
    except (curses.error, OSError, ValueError, AttributeError):
        return False


@contextlib.contextmanager
def paste_marks(stdin: TextIO, stdout: TextIO) -> Iterator[bool]:
    """Ask the terminal to mark pastes, for as long as the block runs; whether it will.

    The marks are not echoed as ^[[200~: echoing of control characters is off meanwhile.
    """
    if not offers_bracketed_paste(stdout):
        yield False
        return
    restore = _quiet_control_characters(stdin)
    stdout.write(BRACKETED_PASTE_ON)
    stdout.flush()
    try:
        yield True
    finally:
        stdout.write(BRACKETED_PASTE_OFF)
        stdout.flush()
        restore()


def read_message(stdin: TextIO, stdout: TextIO, marked: bool) -> str | None:
    """One message typed or pasted at the prompt; None when the person is done (Ctrl-D).

    `marked`: the terminal marks pastes, so a paste is one message and typed text ends at an
    empty line. Otherwise a message ends at an empty line twice or at Ctrl-D.
    """
    lines: list[str] = []
    blank_before = False
    while True:
        stdout.write(CONTINUATION if lines else PROMPT)
        stdout.flush()
        line = stdin.readline()
        if not line:
            return _joined(lines) if lines else None
        line = line.rstrip("\r\n")
        if PASTE_START in line:
            before, _, pasted = line.partition(PASTE_START)
            return _joined([*lines, before + _read_paste(pasted, stdin)])
        if line.strip():
            lines.append(line)
            blank_before = False
        elif lines and (marked or blank_before):
            return _joined(lines)
        elif lines:
            lines.append("")
            blank_before = True


def _read_paste(first: str, stdin: TextIO) -> str:
    """The pasted text from after the start mark to the end mark, whatever blank lines it
    holds; what was typed after the end mark on its line belongs to the message too."""
    lines = []
    line = first
    while PASTE_END not in line:
        lines.append(line)
        line = stdin.readline()
        if not line:
            return "\n".join(lines)
        line = line.rstrip("\r\n")
    pasted, _, after = line.partition(PASTE_END)
    lines.append(pasted + after)
    return "\n".join(lines)


def _joined(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")


def _quiet_control_characters(stdin: TextIO) -> Callable[[], None]:
    """Turn off ECHOCTL on the terminal; a function that turns it back on."""
    try:
        import termios

        fd = stdin.fileno()
        saved = termios.tcgetattr(fd)
        quiet = list(saved)
        quiet[3] &= ~termios.ECHOCTL
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
    except (ImportError, OSError, ValueError, AttributeError):
        return lambda: None

    def restore() -> None:
        with contextlib.suppress(OSError):
            termios.tcsetattr(fd, termios.TCSANOW, saved)

    return restore
