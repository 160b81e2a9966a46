"""Pasted client logs: which command failed, in which mode, over TLS or not, and exposed secrets.

Recognition finds the errors; triage supplies what changes the advice for them. A 550 after
STOR is a write refusal, after CWD a missing folder; a timeout after "227 Entering Passive
Mode" is the classic passive-mode firewall or NAT problem.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from bot.engine.secrets import exposed_secrets
from bot.engine.source import Source, keep, read

FTP_VERBS = [
    "ABOR",
    "ACCT",
    "ALLO",
    "APPE",
    "AUTH",
    "CCC",
    "CDUP",
    "CLNT",
    "CWD",
    "DELE",
    "EPRT",
    "EPSV",
    "FEAT",
    "HELP",
    "LIST",
    "MDTM",
    "MKD",
    "MLSD",
    "MLST",
    "MODE",
    "NLST",
    "NOOP",
    "OPTS",
    "PASS",
    "PASV",
    "PBSZ",
    "PORT",
    "PROT",
    "PWD",
    "QUIT",
    "REIN",
    "REST",
    "RETR",
    "RMD",
    "RNFR",
    "RNTO",
    "SITE",
    "SIZE",
    "SMNT",
    "STAT",
    "STOR",
    "STOU",
    "STRU",
    "SYST",
    "TYPE",
    "USER",
    "XCUP",
    "XCWD",
    "XMKD",
    "XPWD",
    "XRMD",
]
HTTP_METHODS = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "OPTIONS",
    "PATCH",
    "MKCOL",
    "MOVE",
    "COPY",
    "PROPFIND",
    "PROPPATCH",
    "LOCK",
    "UNLOCK",
]
# Commands whose failure is usually a harmless probe: the client carries on without them.
PROBE_COMMANDS = frozenset({"FEAT", "OPTS", "SIZE", "MDTM", "SYST", "CLNT", "HELP", "SITE"})
# Commands whose failure rarely matters: the session was ending anyway.
CLOSING_COMMANDS = frozenset({"QUIT"})
# The operation a library call stands for, in tracebacks and client error prefixes.
CALL_COMMANDS = {
    "cwd": "CWD",
    "quit": "QUIT",
    "chdir": "CWD",
    "storbinary": "STOR",
    "storlines": "STOR",
    "retrbinary": "RETR",
    "retrlines": "RETR",
    "login": "PASS",
    "mkd": "MKD",
    "delete": "DELE",
    "rename": "RENAME",
    "nlst": "NLST",
    "dir": "LIST",
    "mlsd": "MLSD",
    "put": "PUT",
    "fastput": "PUT",
    "upload": "PUT",
    "get": "GET",
    "fastget": "GET",
    "download": "GET",
    "stat": "STAT",
    "lstat": "LSTAT",
    "listdir": "OPENDIR",
    "list": "OPENDIR",
    "readdir": "READDIR",
    "mkdir": "MKDIR",
    "rmdir": "RMDIR",
    "remove": "REMOVE",
    "unlink": "REMOVE",
    "realpath": "REALPATH",
    "open": "OPEN",
    "utime": "SETSTAT",
    "chmod": "SETSTAT",
    "setstat": "SETSTAT",
}

_VERB_ALTERNATION = "|".join(sorted(FTP_VERBS + HTTP_METHODS, key=len, reverse=True))
# Commands as clients log them: upper case anywhere ("Command: STOR x", "> PUT /a HTTP/1.1"),
# or any case at the start of a line (a console session typed by hand: "stat ./input").
_COMMAND = re.compile(rf"(?<![\w/.\-])(?P<verb>{_VERB_ALTERNATION})(?=[ \t'\"`\\]|$)", re.M)
_TYPED_COMMAND = re.compile(rf"^[ \t>]*(?P<verb>{_VERB_ALTERNATION})(?=[ \t]|$)", re.M | re.I)
_REQUEST_LINE = re.compile(rf"\"(?P<verb>{'|'.join(HTTP_METHODS)}) \S+ HTTP/\d(?:\.\d)?\"")
_CALL = re.compile(r"\b(?:ftp|sftp|client|self|conn|connection|c|s)\.(?P<call>[a-zA-Z]+)\s*\(")
# PHP's ftp extension: ftp_put(), ftp_chdir()...
_PHP_CALL = re.compile(r"\bftp_(?P<call>[a-z]+)\(\)")
_CALL_PREFIX = re.compile(r"\bsftp\.(?P<call>[a-zA-Z]+)\s*:")
# PASV/EPSV as a command (the end of a log line), not vsftpd's hint "Consider using PASV."
_PASSIVE = re.compile(
    r"\b(?:PASV|EPSV)(?=[ \t]*(?:$|['\"`\\]))|entering (?:extended )?passive mode|\bpassive mode\b",
    re.I | re.M,
)
_ACTIVE = re.compile(r"\b(?:PORT|EPRT)\s+[\d|(]|\bactive mode\b|\bPORT command successful", re.I)
_TLS = re.compile(
    r"\bAUTH (?:TLS|SSL)\b|\bPROT P\b|\b234 |\bFTPS\b|\bFTPES\b|\bTLS\b|\bSSL\b|\bimplicit\b", re.I
)


# Texts longer than this are cut down to the lines that can matter before recognition.
FOCUS_ABOVE = 16_384
FOCUS_HEAD_CHARS = 1_024
FOCUS_TAIL_CHARS = 4_096
FOCUS_CONTEXT_LINES = 3
FOCUS_MAX_HITS = 500
# Words of lines that can hold a failure (looked for with str.find, far faster than a regex).
# Failures in server replies are caught by their 4xx/5xx code; these catch client-side ones.
_FAILURE_WORDS = (
    "error", "fail", "denied", "refused", "reset", "timed out", "no such", "not found", "abort",
    "closed", "exceed", "quota", "unreach", "exception", "errno", "wsa", "_fx_", "econn",
    "etimedout", "enotfound", "eai_", "错误", "失败",
)  # fmt: skip
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# A plain three-digit run is found at C speed; the few that touch other digits are dropped after.
_THREE_DIGITS = re.compile(r"[45]\d\d")


def read_message(text: str) -> Source:
    """A message as the engine reads it: prepared (`source.read`), and a long log focused."""
    source = read(text)
    ranges = focus(source.text)
    return keep(source, ranges) if ranges else source


def focus(text: str) -> list[tuple[int, int]] | None:
    """The ranges of a long log worth reading: its head, its tail, and every line that can hold
    a failure with the few lines before it (the command a reply answers); None for a text short
    enough to read whole. Finding those lines is a handful of C-speed scans, so the slower
    recognition that follows sees a bounded text."""
    if len(text) <= FOCUS_ABOVE:
        return None
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters lower-case to two characters
        lowered = text.translate(_ASCII_LOWER)
    hits = [
        m.start()
        for m in _THREE_DIGITS.finditer(text)
        if not _touches_digit(text, m.start() - 1, -1) and not _touches_digit(text, m.end(), 1)
    ]
    for word in _FAILURE_WORDS:
        position = lowered.find(word)
        while position != -1:
            hits.append(position)
            line_end = lowered.find("\n", position)  # one hit a line is enough
            position = -1 if line_end == -1 else lowered.find(word, line_end + 1)
    tail_start = max(0, len(text) - FOCUS_TAIL_CHARS)
    ranges = [(0, _line_end(text, FOCUS_HEAD_CHARS))]
    for hit in sorted(set(hits))[-FOCUS_MAX_HITS:]:
        if hit < tail_start:
            ranges.append((_lines_back(text, hit, FOCUS_CONTEXT_LINES), _line_end(text, hit)))
    ranges.append((_lines_back(text, tail_start, 0), len(text)))
    return _merged(ranges)


def _touches_digit(text: str, position: int, step: int) -> bool:
    """A digit or "." next to the number, or a thousands comma with a digit beyond it."""
    if not 0 <= position < len(text):
        return False
    char = text[position]
    if char.isdigit() or char == ".":
        return True
    beyond = position + step
    return char == "," and 0 <= beyond < len(text) and text[beyond].isdigit()


def _line_end(text: str, position: int, reach: int = 1_024) -> int:
    """The end of the line at `position`, or `reach` characters on in an endless line."""
    end = text.find("\n", position, position + reach)
    return min(len(text), position + reach) if end == -1 else end


def _lines_back(text: str, position: int, lines: int, reach: int = 4_096) -> int:
    """The start of the line `lines` lines before `position`, looking back `reach` at most."""
    low = max(0, position - reach)
    start = position
    for _ in range(lines + 1):
        start = text.rfind("\n", low, start)
        if start == -1:
            return low
    return start + 1


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class Event:
    offset: int
    verb: str


@dataclass(frozen=True)
class FailureContext:
    """What surrounds one failure: the command it answers, the transfer mode, TLS."""

    command: str | None = None
    mode: str | None = None
    tls: bool = False

    @property
    def probe(self) -> bool:
        """A failure that is seldom the one to explain: an optional probe, or the goodbye."""
        return self.command in PROBE_COMMANDS or self.command in CLOSING_COMMANDS

    def cues(self) -> list[str]:
        cues = [self.command] if self.command else []
        if self.mode:
            cues.append(self.mode)
        if self.tls:
            cues.append("tls")
        return cues

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "mode": self.mode, "tls": self.tls}


@dataclass(frozen=True)
class LogContext:
    """Everything triage saw in a text, addressable by the offset of a failure."""

    events: tuple[Event, ...] = ()
    passive_offsets: tuple[int, ...] = ()
    active_offsets: tuple[int, ...] = ()
    tls: bool = False
    secrets: tuple[str, ...] = ()

    def at(self, offset: int) -> FailureContext:
        """The context of a failure found at `offset`: the last command and mode before it."""
        index = bisect.bisect_right(self.events, offset, key=lambda event: event.offset)
        command = self.events[index - 1].verb if index else None
        last_passive = _last_before(self.passive_offsets, offset)
        last_active = _last_before(self.active_offsets, offset)
        mode = None
        if last_passive is not None or last_active is not None:
            mode = "passive" if (last_passive or -1) >= (last_active or -1) else "active"
        return FailureContext(
            command=command,
            mode=mode,
            tls=self.tls,
        )


def _last_before(offsets: tuple[int, ...], offset: int) -> int | None:
    index = bisect.bisect_right(offsets, offset)
    return offsets[index - 1] if index else None


def triage(text: str) -> LogContext:
    events = [
        Event(m.start("verb"), m["verb"].upper())
        for pattern in (_COMMAND, _TYPED_COMMAND)
        for m in pattern.finditer(text)
    ]
    if "HTTP/" in text:
        events += [Event(m.start(), m["verb"]) for m in _REQUEST_LINE.finditer(text)]
    calls = (_CALL, _PHP_CALL) if "(" in text else ()
    if "sftp." in text:
        calls += (_CALL_PREFIX,)
    for pattern in calls:
        for match in pattern.finditer(text):
            verb = CALL_COMMANDS.get(match["call"].lower())
            if verb:
                events.append(Event(match.start(), verb))
    events.sort(key=lambda event: event.offset)
    return LogContext(
        events=tuple(events),
        passive_offsets=tuple(m.start() for m in _PASSIVE.finditer(text)),
        active_offsets=tuple(m.start() for m in _ACTIVE.finditer(text)),
        tls=_TLS.search(text) is not None,
        secrets=exposed_secrets(text),
    )
