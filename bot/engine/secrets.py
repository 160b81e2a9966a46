"""Credentials in pasted text: found, named by kind, and masked in place.

The read stage masks every credential it finds (`mask`), so nothing later (recognition, the
answer, a quote of the text, a log line) can repeat one. Masking replaces a secret's characters
one for one with MASK: offsets into the text stay valid, and a masked secret is still
recognisable by what surrounds it (`PASS ▒▒▒▒`, `xoxb-▒▒▒▒`), so `exposed_secrets` names what
was exposed in the text read as well as in the text given. Secrets someone masked already
(`PASS ****`, `password=$PASSWORD`) are not exposed. Pure Python: no Slack, no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass

from bot.engine.substrings import Substrings

# Never typed by people, so a run of it means: errdesk masked a secret here.
MASK = "\u2592"

PASS_COMMAND = "a clear-text password (PASS command)"
URL_PASSWORD = "a password inside a URL (user:password@host)"
COMMAND_LINE = "a password on a command line"
SETTING = "a password or key in a setting (password=...)"
AUTHORIZATION = "credentials in an Authorization header"
SLACK_TOKEN = "a Slack token"
GITHUB_TOKEN = "a GitHub token"
AWS_KEY = "an AWS access key"
PRIVATE_KEY = "a private key"

_VALUE = r"(?P<secret>[^\s'\"`,;&<>]+)"
_QUOTED = r"['\"]?"
_KEYWORDS = (
    r"(?:passw(?:or)?d|passphrase|(?<![a-z])pass|pwd|secret|api[_-]?key|access[_-]?key|token)"
)

# (kind, pattern, substrings one of which the lowered text must hold for the pattern to run),
# the most specific first: where two overlap (TOKEN=xoxb-...), the first one names it.
_PATTERNS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (
    (
        PRIVATE_KEY,
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?P<secret>.*?)"
            r"(?=-----END [A-Z0-9 ]*PRIVATE KEY|\Z)",
            re.S,
        ),
        ("private key",),
    ),
    (
        SLACK_TOKEN,
        re.compile(rf"\b(?:xox[a-z]|xapp)-(?P<secret>[0-9A-Za-z{MASK}-]{{8,}})"),
        ("xox", "xapp-"),
    ),
    (
        GITHUB_TOKEN,
        re.compile(rf"\b(?:gh[pousr]_|github_pat_)(?P<secret>[0-9A-Za-z_{MASK}]{{20,}})"),
        ("gh", "github_pat_"),
    ),
    (
        AWS_KEY,
        re.compile(rf"\b(?:AKIA|ASIA)(?P<secret>[0-9A-Z{MASK}]{{16}})(?![0-9A-Z])"),
        ("akia", "asia"),
    ),
    (
        AUTHORIZATION,
        re.compile(
            r"\bauthorization[ \t]*[:=][ \t]*(?:(?:basic|bearer|token|digest|negotiate|ntlm)"
            r"[ \t]+)?(?P<secret>[^\s'\"`,]+)",
            re.I,
        ),
        ("authorization",),
    ),
    (
        URL_PASSWORD,
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/:@<>|]+:(?P<secret>[^\s/@<>|]+)@", re.I),
        ("://",),
    ),
    (
        PASS_COMMAND,
        re.compile(r"(?:^|[\s>:'\"`])PASS[ \t]+(?P<secret>[^\s'\"`]{3,})", re.M),
        ("pass",),
    ),
    (  # typed at a client's prompt, in lower case: "ftp> pass hunter2" alone on its line
        PASS_COMMAND,
        re.compile(
            r"^[ \t]*(?:[\w.-]*>[ \t]*|(?:command|cmd)[ \t]*:[ \t]*)?pass[ \t]+"
            r"(?P<secret>[^\s'\"`]+)[ \t]*$",
            re.M | re.I,
        ),
        ("pass",),
    ),
    (  # curl -u user:pw, lftp -u user,pw, wget --user=u:pw, smbclient -U user%pw
        COMMAND_LINE,
        re.compile(
            rf"(?:^|[\s'\"`])(?:-u|--user|-U)(?:[ \t]+|=)?{_QUOTED}[^\s:,%'\"`]+[:,%]"
            rf"(?P<secret>[^\s'\"`]+)"
        ),
        ("-u",),
    ),
    (  # --password pw, --pass=pw, sshpass -p pw, psftp/plink/pscp -pw pw
        COMMAND_LINE,
        re.compile(
            r"(?:(?:^|[\s'\"`])(?:--pass(?:word)?|-pw)(?:[ \t]+|=)"
            r"|\bsshpass\b[^\n]*?[ \t]-p[ \t]*)"
            rf"{_QUOTED}(?P<secret>[^\s'\"`]+)"
        ),
        ("-pw", "--pass", "sshpass"),
    ),
    (  # password=pw, db_password = pw, aws_secret_access_key=..., "token": "..."
        SETTING,
        re.compile(rf"{_KEYWORDS}{_QUOTED}[ \t]*=[ \t]*{_QUOTED}{_VALUE}", re.I),
        ("pass", "pwd", "secret", "key", "token"),
    ),
    (  # password: pw; a colon reads as prose more often, so the value must look like one
        SETTING,
        re.compile(
            rf"{_KEYWORDS}{_QUOTED}[ \t]*:[ \t]*(?:\"(?P<quoted>[^\"\s]+)\"|"
            rf"(?P<secret>(?=[^\s'\"`,;&<>]*[\d{MASK}])[^\s'\"`,;&<>]{{3,}}))",
            re.I,
        ),
        ("pass", "pwd", "secret", "key", "token"),
    ),
)

KINDS = tuple(dict.fromkeys(kind for kind, _, _ in _PATTERNS))
# Short names of the kinds, for metric labels.
KIND_LABELS = {
    PASS_COMMAND: "pass_command",
    URL_PASSWORD: "url_password",
    COMMAND_LINE: "command_line",
    SETTING: "setting",
    AUTHORIZATION: "authorization",
    SLACK_TOKEN: "slack_token",
    GITHUB_TOKEN: "github_token",
    AWS_KEY: "aws_key",
    PRIVATE_KEY: "private_key",
}

# Every pattern's triggers: most messages hold none, and then no pattern runs.
_ANY_TRIGGER = Substrings.of(trigger for _, _, triggers in _PATTERNS for trigger in triggers)

# Values that stand for a secret without being one: masks, placeholders, variables.
_PLACEHOLDER = re.compile(
    r"^(?:[*x#•.]+|<[^>]*>|\$\{?\w+\}?|%\w+%|\{\{[^}]*\}\}|password|secret|none|null|"
    r"[\w.-]*\[(?:redacted|hidden|masked|filtered)\]|(?:redacted|hidden|masked|filtered))$",
    re.I,
)


@dataclass(frozen=True)
class Secret:
    """A credential exposed in a text: its kind and where its characters are."""

    kind: str
    start: int
    end: int


def find(text: str) -> list[Secret]:
    """The credentials exposed in `text` (also those errdesk masked), in order of position."""
    lowered = text.lower()
    found: list[Secret] = []
    if not _ANY_TRIGGER.any_in(lowered):
        return found
    # The spans found so far, disjoint and ordered by start: a new span can only overlap the
    # last one starting before its end, so a log with thousands of credentials is not
    # checked pair by pair.
    starts: list[int] = []
    ends: list[int] = []
    for kind, pattern, triggers in _PATTERNS:
        if not any(trigger in lowered for trigger in triggers):
            continue
        for match in _matches(pattern, text, lowered, triggers):
            group = "quoted" if match.groupdict().get("quoted") else "secret"
            start, end = match.span(group)
            value = match[group]
            if not value or not value.strip() or _PLACEHOLDER.match(value):
                continue
            before = bisect_left(starts, end)
            if before and ends[before - 1] > start:
                continue
            starts.insert(before, start)
            ends.insert(before, end)
            found.append(Secret(kind, start, end))
    return sorted(found, key=lambda secret: (secret.start, secret.end))


def _matches(
    pattern: re.Pattern[str], text: str, lowered: str, triggers: tuple[str, ...]
) -> Iterator[re.Match[str]]:
    """The pattern's matches, sought only on the lines that hold one of its triggers: a long
    log holds "pass" or "key" somewhere, and scanning all of it for each pattern is what costs.
    A pattern that spans lines (a private key block) reads the whole text."""
    if pattern.flags & re.DOTALL or len(lowered) != len(text):
        # a block of lines, or a text whose lower case moved its offsets ("İ" is two characters)
        yield from pattern.finditer(text)
        return
    for start, end in _trigger_lines(text, lowered, triggers):
        yield from pattern.finditer(text, start, end)


def _trigger_lines(text: str, lowered: str, triggers: tuple[str, ...]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for trigger in triggers:
        position = lowered.find(trigger)
        while position != -1:
            start = text.rfind("\n", 0, position) + 1
            end = text.find("\n", position)
            end = len(text) if end == -1 else end
            spans.append((start, end))
            position = lowered.find(trigger, end)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def exposed_secrets(text: str) -> tuple[str, ...]:
    """The kinds of credential exposed in `text`, never the credentials themselves."""
    return kinds_of(find(text))


def kinds_of(secrets: list[Secret]) -> tuple[str, ...]:
    seen = {secret.kind for secret in secrets}
    return tuple(kind for kind in KINDS if kind in seen)


def mask(text: str) -> str:
    """`text` with each exposed credential's characters replaced by MASK (line breaks and
    spaces kept), so it has the same length and the same offsets as before."""
    return masked(text, find(text))


def masked(text: str, secrets: list[Secret]) -> str:
    """`text` with the characters of these credentials (found in it) replaced by MASK."""
    if not secrets:
        return text
    pieces: list[str] = []
    last = 0
    for secret in secrets:
        start = max(secret.start, last)
        if start >= secret.end:
            continue
        pieces.append(text[last:start])
        pieces.append(re.sub(r"\S", MASK, text[start : secret.end]))
        last = secret.end
    pieces.append(text[last:])
    return "".join(pieces)
