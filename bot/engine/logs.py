"""Pasted client logs: which command failed, in which mode, over TLS or not, and exposed secrets.

Recognition finds the errors; triage supplies what changes the advice for them. A 550 after
STOR is a write refusal, after CWD a missing folder; a timeout after "227 Entering Passive
Mode" is the classic passive-mode firewall or NAT problem.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

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
# The operation a library call stands for, in tracebacks and client error prefixes.
CALL_COMMANDS = {
    "cwd": "CWD",
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
_CALL_PREFIX = re.compile(r"\bsftp\.(?P<call>[a-zA-Z]+)\s*:")
_PASSIVE = re.compile(
    r"\b(?:PASV|EPSV)\b|entering (?:extended )?passive mode|\bpassive mode\b", re.I
)
_ACTIVE = re.compile(r"\b(?:PORT|EPRT)\s+[\d|(]|\bactive mode\b|\bPORT command successful", re.I)
_TLS = re.compile(
    r"\bAUTH (?:TLS|SSL)\b|\bPROT P\b|\b234 |\bFTPS\b|\bFTPES\b|\bTLS\b|\bSSL\b|\bimplicit\b", re.I
)
_CLEAR_PASS = re.compile(r"(?:^|[\s>:'\"`])PASS[ \t]+(?P<secret>[^\s*'\"`]{3,})", re.M)
_URL_CREDENTIALS = re.compile(r"\b(?:s?ftps?|https?)://[^\s/:@]+:(?P<secret>[^\s/@*]{2,})@", re.I)
_TOKEN = re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{8,}")


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
    passive_reply_seen: bool = False

    @property
    def probe(self) -> bool:
        return self.command in PROBE_COMMANDS

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
    focus: FailureContext = field(default_factory=FailureContext)

    def at(self, offset: int) -> FailureContext:
        """The context of a failure found at `offset`: the last command and mode before it."""
        index = bisect.bisect_right([e.offset for e in self.events], offset)
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
            passive_reply_seen=last_passive is not None,
        )

    def focused(self, offset: int) -> LogContext:
        return LogContext(
            self.events,
            self.passive_offsets,
            self.active_offsets,
            self.tls,
            self.secrets,
            self.at(offset),
        )

    def cues(self) -> list[str]:
        return self.focus.cues()

    def to_dict(self) -> dict[str, Any]:
        return {**self.focus.to_dict(), "secrets": list(self.secrets)}


def _last_before(offsets: tuple[int, ...], offset: int) -> int | None:
    index = bisect.bisect_right(offsets, offset)
    return offsets[index - 1] if index else None


def triage(text: str) -> LogContext:
    events = [
        Event(m.start("verb"), m["verb"].upper())
        for pattern in (_COMMAND, _TYPED_COMMAND)
        for m in pattern.finditer(text)
    ]
    events += [Event(m.start(), m["verb"]) for m in _REQUEST_LINE.finditer(text)]
    for pattern in (_CALL, _CALL_PREFIX):
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


def exposed_secrets(text: str) -> tuple[str, ...]:
    """Kinds of secret visible in clear text; the secrets themselves are never kept."""
    kinds = []
    if any(not _masked(m["secret"]) for m in _CLEAR_PASS.finditer(text)):
        kinds.append("a clear-text password (PASS command)")
    if any(not _masked(m["secret"]) for m in _URL_CREDENTIALS.finditer(text)):
        kinds.append("a password inside a URL (user:password@host)")
    if _TOKEN.search(text):
        kinds.append("a Slack token")
    return tuple(kinds)


def _masked(secret: str) -> bool:
    return set(secret) <= set("*x#•.") or secret.lower() in {"<password>", "password", "xxx"}
