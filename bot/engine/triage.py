"""Triage: which command failed, in which mode, over TLS or not, in which situation; secrets.

Recognition finds the errors; triage supplies what changes the advice for them. A 550 after
STOR is a write refusal, after CWD a missing folder; a timeout after "227 Entering Passive
Mode" is the classic passive-mode firewall or NAT problem.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from bot.engine.vocabulary import GuardedPattern, Vocabulary, load_vocabulary

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
    "rm": "REMOVE",
    "ls": "OPENDIR",
    "cd": "REALPATH",
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
# OpenSSH's interactive client: "sftp> rename a b", "sftp> mkdir archive".
_SFTP_PROMPT = re.compile(r"^[ \t]*sftp> ?(?P<call>[a-z]+)\b", re.M)
# curl's upload options stand for a PUT: "curl -T backup.tar https://...".
_CURL_UPLOAD = re.compile(r"\bcurl\b[^\n]*?\s(?:-T|--upload-file)\s")
# PASV/EPSV as a command (the end of a log line), not vsftpd's hint "Consider using PASV."
_PASSIVE = GuardedPattern.compile(
    r"\b(?:PASV|EPSV)(?=[ \t]*(?:$|['\"`\\]))|"
    r"entering (?:extended )?passive mode|\bpassive mode\b",
    re.I | re.M,
)
# PORT/EPRT as commands in upper case only: "connecting data socket to ... port 40112" is passive.
_ACTIVE = GuardedPattern.compile(
    r"(?-i:\b(?:PORT|EPRT))\s+[\d|(]|\bactive mode\b|\bPORT command successful", re.I
)
_TLS = GuardedPattern.compile(
    r"\bAUTH (?:TLS|SSL)\b|\bPROT P\b|\b234 |\bFTPS\b|\bFTPES\b|\bTLS\b|\bSSL\b|\bimplicit\b",
    re.I,
)
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

_PASSIVE_REPLY = GuardedPattern.compile(
    r"\b227\b[^(\n]{0,60}\((?P<a>\d{1,3}),(?P<b>\d{1,3}),\d{1,3},\d{1,3},\d{1,3},\d{1,3}\)"
    r"|(?P<unroutable>passive reply with (?:an )?unroutable address)",
    re.I,
)
_LOGGED_IN = GuardedPattern.compile(
    r"^[^\n]{0,60}\b230\b|\blogged in\b|\blogin successful\b|\bauthenticated\b|"
    r"\bauthentication (?:succeeded|successful)|\bAuthenticated to\b",
    re.I | re.M,
)
_CONNECTING = GuardedPattern.compile(
    r"\b220[ -]|\bconnecting to\b|\bresolving address\b|\bconnection established\b", re.I
)
_DATA_WORDS = GuardedPattern.compile(r"\bdata (?:connection|channel|socket)\b|FtpDataStream", re.I)
# Situations a message states once for all its failures, each read from the patterns of its
# section in knowledge/vocabulary/situations.toml.
MESSAGE_SITUATIONS = (
    "connect-timeout",
    "read-timeout",
    "works-elsewhere",
    "works-in-other-client",
    "works-for-others",
    "fails-for-everyone",
    "server-changed",
    "address-allowlist",
    "access-expected",
    "own-quota-full",
    "server-disk-full",
    "vpn-off",
)
# Each situation and the name of its list of patterns, and those names, searched together.
_SAID_PATTERNS = tuple(
    (situation, f"situations.{situation}.said_patterns") for situation in MESSAGE_SITUATIONS
)
_SAID_LISTS = tuple(patterns for _, patterns in _SAID_PATTERNS)
# A message that says it works somewhere, or for someone, does not fail for everyone.
_WORKS_SOMEWHERE = frozenset({"works-elsewhere", "works-in-other-client", "works-for-others"})
# "15 GB of 15 GB used", "9.9 of my 10 GB": an allowance all but used up (see _quota_used_up).
_USAGE = re.compile(
    r"\b(?P<used>\d+(?:[.,]\d+)?)\s*(?:[KMGT]i?B\s+)?(?:of|out of|/)\s+(?:my |our |the |your )?"
    r"(?P<allowed>\d+(?:[.,]\d+)?)\s*[KMGT]i?B\b",
    re.I,
)
USED_UP = 0.98
# After the failure the session goes on to succeed: the client fell back and carried on.
_SUCCESS = GuardedPattern.compile(
    r"^[^\n]{0,30}\b(?:226|250)[ -]|\bsuccessful(?:ly)?\b|\btransfer complete\b", re.I | re.M
)
# The client connects to a private address: "connect to host 10.20.0.15 port 22".
_TARGET = GuardedPattern.compile(
    r"\bconnect(?:ing|ed)? to (?:host )?(?P<a>\d{1,3})\.(?P<b>\d{1,3})\.\d{1,3}\.\d{1,3}\b",
    re.I,
)
# An IPv6 address in brackets ("[2001:db8::15]:21"), or IPv6 named.
_IPV6 = GuardedPattern.compile(
    r"\[[0-9a-f]{1,4}:[0-9a-f:]*\](?::\d+)?|\bIPv6\b|\bAF_INET6\b|\bEPRT \|2\|", re.I
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
    success_offsets: tuple[int, ...] = ()
    # Situations the message states once for all its failures.
    message_situations: frozenset[str] = frozenset()
    tls_from_log: bool = False
    # The text triaged, to tell log lines from sentences for the few offsets that need it.
    text: str = ""

    def at(self, offset: int) -> FailureContext:
        """The context of a failure found at `offset`: the last command and mode before it."""
        index = bisect.bisect_right(self.events, offset, key=lambda event: event.offset)
        command = self.events[index - 1].verb if index else None
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
        if self.success_offsets and self.success_offsets[-1] > offset:
            situations.add("carried-on")
        mode, mode_offset = self._mode(offset)
        return FailureContext(
            command=command,
            mode=mode,
            tls=self.tls,
            situations=frozenset(situations),
            command_from_log=bool(index) and on_log_line(self.text, self.events[index - 1].offset),
            mode_from_log=mode_offset is not None and on_log_line(self.text, mode_offset),
            tls_from_log=self.tls_from_log,
        )

    def _mode(self, offset: int) -> tuple[str | None, int | None]:
        """The mode last entered before the failure, and where it was seen; in a message that
        names the mode only after its error ("425, but only in active mode"), the first one."""
        last_passive = _last_before(self.passive_offsets, offset)
        last_active = _last_before(self.active_offsets, offset)
        if last_passive is not None or last_active is not None:
            if (last_passive or -1) >= (last_active or -1):
                return "passive", last_passive
            return "active", last_active
        named = [(o, "passive") for o in self.passive_offsets[:1]]
        named += [(o, "active") for o in self.active_offsets[:1]]
        if not named:
            return None, None
        where, mode = min(named)
        return mode, where


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


def triage(text: str, vocabulary: Vocabulary | None = None) -> Triage:
    """What the text shows around its failures; situations are worded as `vocabulary` says
    (the bundled word lists when none is given)."""
    lowered = text.lower()
    events = [
        Event(m.start("verb"), m["verb"].upper())
        for pattern in (_COMMAND, _TYPED_COMMAND)
        for m in pattern.finditer(text)
    ]
    if "HTTP/" in text:
        events += [Event(m.start(), m["verb"]) for m in _REQUEST_LINE.finditer(text)]
    if "curl" in text:
        events += [Event(m.start(), "PUT") for m in _CURL_UPLOAD.finditer(text)]
    calls: tuple[re.Pattern[str], ...] = (_CALL, _PHP_CALL) if "(" in text else ()
    if "sftp." in text:
        calls += (_CALL_PREFIX,)
    if "sftp>" in text:
        calls += (_SFTP_PROMPT,)
    for pattern in calls:
        for match in pattern.finditer(text):
            verb = CALL_COMMANDS.get(match["call"].lower())
            if verb:
                events.append(Event(match.start(), verb))
    events.sort(key=lambda event: event.offset)
    private = tuple(
        m.start()
        for m in _PASSIVE_REPLY.finditer(text, lowered)
        if m["unroutable"] or _private(int(m["a"]), int(m["b"]))
    )
    tls, tls_from_log = _tls_seen(text, lowered)
    return Triage(
        events=tuple(events),
        passive_offsets=tuple(m.start() for m in _PASSIVE.finditer(text, lowered)),
        active_offsets=tuple(m.start() for m in _ACTIVE.finditer(text, lowered)),
        tls=tls,
        private_passive_offsets=private,
        login_offsets=tuple(m.start() for m in _LOGGED_IN.finditer(text, lowered)),
        connecting_offsets=tuple(m.start() for m in _CONNECTING.finditer(text, lowered)),
        data_word_offsets=tuple(m.start() for m in _DATA_WORDS.finditer(text, lowered)),
        success_offsets=tuple(m.start() for m in _SUCCESS.finditer(text, lowered)),
        message_situations=message_situations(text, vocabulary or _bundled_vocabulary(), lowered),
        tls_from_log=tls_from_log,
        text=text,
    )


def message_situations(
    text: str, vocabulary: Vocabulary, lowered: str | None = None
) -> frozenset[str]:
    """The situations the message states once for all its failures; `lowered` is
    `text.lower()` when the caller has it already."""
    lowered = text.lower() if lowered is None else lowered
    found = vocabulary.patterns_of(_SAID_LISTS).found(text, lowered)
    said = {situation for situation, patterns in _SAID_PATTERNS if patterns in found}
    if said & _WORKS_SOMEWHERE:
        said.discard("fails-for-everyone")
    if _quota_used_up(text):
        said.add("own-quota-full")
    if any(_private(int(m["a"]), int(m["b"])) for m in _TARGET.finditer(text, lowered)):
        said.add("private-target")
    if _IPV6.search(text, lowered):
        said.add("ipv6")
    return frozenset(said)


@cache
def _bundled_vocabulary() -> Vocabulary:
    return load_vocabulary()


def _quota_used_up(text: str) -> bool:
    """A usage figure at its allowance: "15 GB of 15 GB", "at 9.9 of my 10 GB"."""
    for match in _USAGE.finditer(text):
        used = float(match["used"].replace(",", "."))
        allowed = float(match["allowed"].replace(",", "."))
        if allowed and used / allowed >= USED_UP:
            return True
    return False


def _tls_seen(text: str, lowered: str) -> tuple[bool, bool]:
    """Whether TLS is mentioned at all, and whether on a log line (the first such is enough)."""
    mentions = (match.start() for match in _TLS.finditer(text, lowered))
    first = next(mentions, None)
    if first is None:
        return False, False
    return True, on_log_line(text, first) or any(on_log_line(text, o) for o in mentions)
