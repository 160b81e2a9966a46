"""Triage: which command failed, in which mode, over TLS or not, in which situation; secrets.

Recognition finds the errors; triage supplies what changes the advice for them. A 550 after
STOR is a write refusal, after CWD a missing folder; a timeout after "227 Entering Passive
Mode" is the classic passive-mode firewall or NAT problem.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
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
_CLEAR_PASS = re.compile(r"(?:^|[\s>:'\"`])PASS[ \t]+(?P<secret>[^\s*'\"`]{3,})", re.M)
_URL_CREDENTIALS = re.compile(r"\b(?:s?ftps?|https?)://[^\s/:@]+:(?P<secret>[^\s/@*]{2,})@", re.I)
_TOKEN = re.compile(r"\b(?:xox[abposr]|xapp)-[0-9A-Za-z-]{8,}")
# How a line of a log, a trace or code begins, as opposed to a sentence: a label ("Command:",
# "WARNING:pyftpsync:"), a prompt or arrow ("> ", "ftp>", "<=="), a timestamp, an address or a
# reply code, a bracket ("[12:01:03]", "(000412)"), JSON, or indented code.
# A line longer than this before the offset is not a log line.
LOG_LINE_REACH = 512
_LOG_LINE_START = re.compile(
    r"[ \t`'\"]*(?:[\w.\-\[\]]{1,30}[ \t]?:|\w{0,8}[<>=-]*[<>]|\d|[\[({<]|\\?\"?[A-Z]{3,}\b)"
    r"|[ \t]{4}|\t",
)


@dataclass(frozen=True)
class Event:
    offset: int
    verb: str


# Commands whose reply comes after a data connection was needed: listings and transfers.
DATA_COMMANDS = frozenset({"LIST", "MLSD", "NLST", "RETR", "STOR", "STOU", "APPE", "GET", "PUT"})
# Commands of the control connection before or around login.
LOGIN_COMMANDS = frozenset({"USER", "PASS", "ACCT", "AUTH", "PBSZ", "PROT"})

_PASSIVE_REPLY = re.compile(
    r"\b227\b[^(\n]{0,60}\((?P<a>\d{1,3}),(?P<b>\d{1,3}),\d{1,3},\d{1,3},\d{1,3},\d{1,3}\)"
    r"|(?P<unroutable>passive reply with (?:an )?unroutable address)",
    re.I,
)
_LOGGED_IN = re.compile(
    r"^[^\n]{0,60}\b230\b|\blogged in\b|\blogin successful\b|\bauthenticated\b|"
    r"\bauthentication (?:succeeded|successful)|\bAuthenticated to\b",
    re.I | re.M,
)
_CONNECTING = re.compile(
    r"\b220[ -]|\bconnecting to\b|\bresolving address\b|\bconnection established\b", re.I
)
_DATA_WORDS = re.compile(r"\bdata (?:connection|channel|socket)\b|FtpDataStream", re.I)
_CONNECT_TIMEOUT = re.compile(
    r"\bconnect(?:ion)? (?:attempt )?timed? ?out\b|\bconnecttimeout|\bconnect ETIMEDOUT\b|"
    r"\btimed out (?:while |when )?connecting\b|\bconnection timed out\b[^\n]{0,40}\bconnect|"
    r"\bfailed to connect\b[^\n]{0,80}\btimed? ?out|\bconnectex\b|\bConnection attempt failed\b|"
    r"\bConnection timed out after \d+ milliseconds\b|\bconnect\(\) timed out",
    re.I,
)
_READ_TIMEOUT = re.compile(
    r"\bread timed? ?out\b|\bReadTimeout|\bread ETIMEDOUT\b|\bsocket\.timeout\b|"
    r"\btimeout (?:on|during|while) (?:data )?(?:transfer|reading|receiving)\b|"
    r"\bno data received\b|\bidle time-?out\b|\btimed out after \d+ \w+ with \d+ (?:out of|bytes)|"
    r"\bOperation timed out after \d+ milliseconds with \d+|\brecv(?:\(\))? timed? ?out",
    re.I,
)
_WORKS_ELSEWHERE = re.compile(
    r"\bworks?(?:ing)?\b[^.\n]{0,30}\b(?:from|on|at|with|over|via|through)\s+(?:my\s+|a\s+|the\s+|an\s+)?"
    r"(?:home|another|other|different|mobile|phone|hotspot|4g|5g|lte|vpn|office|laptop)\b|"
    r"\b(?:from|on|at|with|over|via)\s+(?:my\s+|a\s+|the\s+|an\s+)?(?:home|another|other|different|"
    r"mobile|phone|hotspot|vpn)\b[^.\n]{0,30}\b(?:it )?works?\b",
    re.I,
)
_WORKS_FOR_OTHERS = re.compile(
    r"\bworks? (?:fine |ok |well )?for (?:everyone|everybody|all|the rest|others|other users|"
    r"my colleagues)|\b(?:other|all other) (?:users|people|colleagues|clients|customers) "
    r"(?:can|are able to|have no)|\b(?:everyone|everybody) else (?:can|is able to|has no)\b|"
    r"\bonly (?:me|my account|for me|my user)\b|\bonly one (?:user|account)\b",
    re.I,
)


@dataclass(frozen=True)
class FailureContext:
    """What surrounds one failure: the command it answers, the transfer mode, TLS, and the
    situations an expert tells apart (data or control connection, before or after login, a
    private address in the passive reply, which time-out, what the person says works)."""

    command: str | None = None
    mode: str | None = None
    tls: bool = False
    situations: frozenset[str] = frozenset()
    # Whether the command, the mode and TLS were seen on lines of a log (or a trace, or code)
    # rather than in a sentence: only those are what triage *saw*, fit to be shown as such.
    command_from_log: bool = False
    mode_from_log: bool = False
    tls_from_log: bool = False

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
        cues.extend(sorted(self.situations))
        return cues

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "mode": self.mode,
            "tls": self.tls,
            "situations": sorted(self.situations),
            "command_from_log": self.command_from_log,
        }


@dataclass(frozen=True)
class Triage:
    """Everything triage saw in a text, addressable by the offset of a failure."""

    events: tuple[Event, ...] = ()
    passive_offsets: tuple[int, ...] = ()
    active_offsets: tuple[int, ...] = ()
    tls: bool = False
    private_passive_offsets: tuple[int, ...] = ()
    login_offsets: tuple[int, ...] = ()
    connecting_offsets: tuple[int, ...] = ()
    data_word_offsets: tuple[int, ...] = ()
    # Situations the message states once for all its failures.
    message_situations: frozenset[str] = frozenset()
    tls_from_log: bool = False
    # The text triaged, to tell log lines from sentences for the few offsets that need it.
    text: str = ""

    def at(self, offset: int) -> FailureContext:
        """The context of a failure found at `offset`: the last command and mode before it."""
        index = bisect.bisect_right(self.events, offset, key=lambda event: event.offset)
        command = self.events[index - 1].verb if index else None
        last_passive = _last_before(self.passive_offsets, offset)
        last_active = _last_before(self.active_offsets, offset)
        mode = mode_offset = None
        if last_passive is not None or last_active is not None:
            passive = (last_passive or -1) >= (last_active or -1)
            mode = "passive" if passive else "active"
            mode_offset = last_passive if passive else last_active
        situations = set(self.message_situations)
        if _last_before(self.private_passive_offsets, offset) is not None:
            situations.add("private-address")
        if _last_before(self.login_offsets, offset) is not None:
            situations.add("after-login")
        elif command in LOGIN_COMMANDS or _last_before(self.connecting_offsets, offset) is not None:
            situations.add("before-login")
        near_data_words = any(abs(o - offset) < 200 for o in self.data_word_offsets)
        if command in DATA_COMMANDS or near_data_words:
            situations.add("data")
        elif command is not None:
            situations.add("control")
        return FailureContext(
            command=command,
            mode=mode,
            tls=self.tls,
            situations=frozenset(situations),
            command_from_log=bool(index) and on_log_line(self.text, self.events[index - 1].offset),
            mode_from_log=mode_offset is not None and on_log_line(self.text, mode_offset),
            tls_from_log=self.tls_from_log,
        )


def on_log_line(text: str, offset: int) -> bool:
    """Whether `offset` is on a line of a log, a trace or code, not in a sentence."""
    start = text.rfind("\n", max(0, offset - LOG_LINE_REACH), offset) + 1
    if start == 0 and offset > LOG_LINE_REACH:
        return False
    return _LOG_LINE_START.match(text, start) is not None


def _last_before(offsets: tuple[int, ...], offset: int) -> int | None:
    index = bisect.bisect_right(offsets, offset)
    return offsets[index - 1] if index else None


def _private(first: int, second: int) -> bool:
    """An address a client elsewhere cannot reach: RFC 1918, loopback, link-local, CGNAT."""
    return (
        first in (10, 127)
        or (first == 172 and 16 <= second <= 31)
        or (first == 192 and second == 168)
        or (first == 169 and second == 254)
        or (first == 100 and 64 <= second <= 127)
    )


def triage(text: str) -> Triage:
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
    private = tuple(
        m.start()
        for m in _PASSIVE_REPLY.finditer(text)
        if m["unroutable"] or _private(int(m["a"]), int(m["b"]))
    )
    situations = set()
    if _CONNECT_TIMEOUT.search(text):
        situations.add("connect-timeout")
    if _READ_TIMEOUT.search(text):
        situations.add("read-timeout")
    if _WORKS_ELSEWHERE.search(text):
        situations.add("works-elsewhere")
    if _WORKS_FOR_OTHERS.search(text):
        situations.add("works-for-others")
    tls, tls_from_log = _tls_seen(text)
    return Triage(
        events=tuple(events),
        passive_offsets=tuple(m.start() for m in _PASSIVE.finditer(text)),
        active_offsets=tuple(m.start() for m in _ACTIVE.finditer(text)),
        tls=tls,
        private_passive_offsets=private,
        login_offsets=tuple(m.start() for m in _LOGGED_IN.finditer(text)),
        connecting_offsets=tuple(m.start() for m in _CONNECTING.finditer(text)),
        data_word_offsets=tuple(m.start() for m in _DATA_WORDS.finditer(text)),
        message_situations=frozenset(situations),
        tls_from_log=tls_from_log,
        text=text,
    )


def _tls_seen(text: str) -> tuple[bool, bool]:
    """Whether TLS is mentioned at all, and whether on a log line (the first such is enough)."""
    mentions = (match.start() for match in _TLS.finditer(text))
    first = next(mentions, None)
    if first is None:
        return False, False
    return True, on_log_line(text, first) or any(on_log_line(text, o) for o in mentions)


def exposed_secrets(text: str) -> tuple[str, ...]:
    """Kinds of secret visible in clear text; the secrets themselves are never kept."""
    if "PASS" not in text and "://" not in text and "xox" not in text and "xapp-" not in text:
        return ()
    kinds = []
    if any(not _masked(m["secret"]) for m in _CLEAR_PASS.finditer(text)):
        kinds.append("a clear-text password (PASS command)")
    if any(not _masked(m["secret"]) for m in _URL_CREDENTIALS.finditer(text)):
        kinds.append("a password inside a URL (user:password@host)")
    if _TOKEN.search(text):
        kinds.append("a Slack token")
    return tuple(kinds)


def _masked(secret: str) -> bool:
    return set(secret.lower()) <= set("*x#•.") or secret.lower() in {
        "<password>",
        "password",
        "xxx",
    }
