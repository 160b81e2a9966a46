"""The knowledge base: entries read from TOML files, validated, indexed for lookup.

Validation collects every problem (file, entry, field) instead of stopping at the first,
so a site editing its own files sees all of its mistakes in one `errdesk kb check`: every bad
field of an entry, duplicates, `related` codes that name no entry, and folders or files that
hold no entries at all.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeGuard, get_args

Protocol = Literal["ftp", "sftp", "http", "winsock", "ssh", "tls", "curl", "wininet", "windows"]
# Who can fix it: nobody needs to (info), the person asking, the server's admin, the network.
Verdict = Literal["info", "you", "admin", "isp"]
PROTOCOLS: tuple[Protocol, ...] = get_args(Protocol)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
# Decimal codes as users see them ("425", "-1", "12029": no leading zeros, so one code has one
# spelling), or a Windows HRESULT in hex ("0x80090325").
CODE_PATTERN = re.compile(r"^(?:-?(?:0|[1-9]\d{0,4})|0x[0-9A-F]{8})$")
# What triage can tell about a failure, besides the command it answers (an upper-case verb).
SITUATIONS = frozenset(
    {
        "passive",  # the transfer ran in passive mode (PASV/EPSV)
        "active",  # the transfer ran in active mode (PORT/EPRT)
        "tls",  # the session used TLS (AUTH TLS, FTPS, implicit TLS)
        "data",  # the failure is on the data connection (a listing or a transfer)
        "control",  # the failure is on the control connection (login, commands)
        "before-login",  # no login had succeeded yet
        "after-login",  # a login had succeeded before the failure
        "private-address",  # the 227/229 reply announced a private or loopback address
        "connect-timeout",  # the time-out happened while connecting
        "read-timeout",  # the time-out happened while waiting for data on an open connection
        "works-elsewhere",  # the message says it works from another network, machine or client
        "works-for-others",  # the message says it works for everyone else
        "works-in-other-client",  # the message says another program or the web page manages
        "fails-for-everyone",  # the message says it fails for every user or from every network
        "server-changed",  # the message says it began with a change on the server's side
        "address-allowlist",  # the message says the server admits only listed addresses
        "access-expected",  # the message says the account is meant to have this access
        "own-quota-full",  # the message says the person's own storage allowance is used up
        "server-disk-full",  # the message says the server's disk is full
        "vpn-off",  # the message says the VPN is not connected
        "carried-on",  # after the failure the session went on to succeed (a fallback)
        "private-target",  # the client connected to a private address
        "ipv6",  # the connection went to an IPv6 address
    }
)
_COMMAND_WORD = re.compile(r"^[A-Z]{3,9}$")
# FTP's transient (4xx) and permanent (5xx) negative replies, RFC 959 section 4.2.
FTP_NEGATIVE_REPLIES = range(400, 600)
# HTTP's client (4xx) and server (5xx) errors begin here.
HTTP_FIRST_ERROR = 400
# SFTP's SSH_FX_OK and SSH_FX_EOF: the two statuses that are not failures.
SFTP_NOT_FAILURES = (0, 1)
KNOWN_FIELDS = frozenset(
    {
        "protocol",
        "code",
        "names",
        "title",
        "meaning",
        "verdict",
        "steps",
        "phrases",
        "context",
        "related",
        "errno",
    }
)
CONTEXT_FIELDS = frozenset({"when", "wording", "advice", "steps", "verdict", "because"})


@dataclass(frozen=True)
class ContextAdvice:
    """A situation an expert tells apart: its own first steps and, where the fixer changes,
    its own verdict and the reason shown under it.

    It applies when the failure answers one of its `when` commands (if it names any), every
    situation of its `when` holds, and, if `wording` is given, the message holds one of those
    wordings (the server's own text: "OOPS").
    """

    when: tuple[str, ...]
    advice: str
    wording: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    verdict: Verdict | None = None
    because: str | None = None

    @cached_property
    def keys(self) -> frozenset[str]:
        """The commands and situations in upper case: they compare without regard to case."""
        return frozenset(token.upper() for token in self.when)

    @cached_property
    def folded_wording(self) -> tuple[str, ...]:
        return tuple(item.casefold() for item in self.wording)

    @cached_property
    def commands(self) -> frozenset[str]:
        return frozenset(key for key in self.keys if key.lower() not in SITUATIONS)

    @cached_property
    def situations(self) -> frozenset[str]:
        return self.keys - self.commands

    @property
    def specificity(self) -> int:
        """How many conditions it names: the more, the more precisely it fits."""
        return bool(self.commands) + len(self.situations) + bool(self.wording)

    def applies(self, seen: frozenset[str], folded_text: str) -> bool:
        """One of its commands, all of its situations, one of its wordings (`seen` are the
        failure's cues in upper case)."""
        if self.commands and not self.commands & seen:
            return False
        if not self.situations <= seen:
            return False
        return not self.wording or any(item in folded_text for item in self.folded_wording)

    @property
    def own_steps(self) -> tuple[str, ...]:
        return (self.advice, *self.steps)


@dataclass(frozen=True)
class Entry:
    protocol: Protocol
    code: str
    title: str
    meaning: str
    verdict: Verdict
    steps: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    context: tuple[ContextAdvice, ...] = ()
    related: tuple[str, ...] = ()
    errno: Mapping[str, int] = field(default_factory=dict)
    source: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.protocol, self.code)

    @property
    def is_failure(self) -> bool:
        """A negative reply or an error, as opposed to a step of a normal exchange (331, 227)."""
        if self.verdict == "info":
            return False
        # Only these protocols have codes for success; others (an HRESULT too) only fail.
        if self.protocol == "ftp":
            return int(self.code) in FTP_NEGATIVE_REPLIES
        if self.protocol == "http":
            return int(self.code) >= HTTP_FIRST_ERROR
        if self.protocol == "sftp":
            return int(self.code) not in SFTP_NOT_FAILURES
        return True

    @property
    def label(self) -> str:
        return f"{self.protocol.upper()} {self.code}"

    def cases_for(self, cues: Iterable[str], text: str) -> tuple[ContextAdvice, ...]:
        """Context cases whose every condition holds, the most specific first."""
        if not self.context:
            return ()
        seen = frozenset(cue.upper() for cue in cues)
        folded = text.casefold()
        matched = [item for item in self.context if item.applies(seen, folded)]
        return tuple(sorted(matched, key=lambda item: -item.specificity))


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a knowledge file, located as precisely as it can be."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.entry:
            where += f": {self.entry}"
        if self.field:
            where += f": field '{self.field}'"
        return f"{where}: {self.message}"


class KnowledgeError(Exception):
    """Raised when knowledge files cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class KnowledgeBase:
    """All entries, keyed by (protocol, code), with a name index for whole-word lookup."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._entries: dict[tuple[str, str], Entry] = {}
        for entry in entries:
            self._entries[entry.key] = entry
        self._by_name: dict[str, Entry] = {}
        for entry in self._entries.values():
            for name in entry.names:
                self._by_name.setdefault(name.casefold(), entry)

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self._entries.values(), key=_sort_key))

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, protocol: str, code: str) -> Entry | None:
        return self._entries.get((protocol.lower(), code))

    def by_name(self, name: str) -> Entry | None:
        return self._by_name.get(name.casefold())

    def with_code(self, code: str) -> list[Entry]:
        """Every protocol's entry for this code, in PROTOCOLS order."""
        return [entry for p in PROTOCOLS if (entry := self._entries.get((p, code)))]

    def for_protocol(self, protocol: str) -> list[Entry]:
        return [entry for entry in self if entry.protocol == protocol]

    def related_entries(self, entry: Entry) -> list[Entry]:
        found = []
        for reference in entry.related:
            target = self._entries.get(related_key(entry, reference))
            if target is not None:
                found.append(target)
        return found


def related_key(entry: Entry, reference: str) -> tuple[str, str]:
    """The (protocol, code) a `related` item names: "ftp 426", or "426" for the entry's own."""
    protocol, _, code = reference.rpartition(" ")
    return ((protocol or entry.protocol).lower(), code)


def _sort_key(entry: Entry) -> tuple[int, int]:
    return (PROTOCOLS.index(entry.protocol), int(entry.code, 0))


def bundled_dir() -> Path:
    """The knowledge shipped with errdesk: in the installed package, or the source checkout's."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "_knowledge"
    if installed.is_dir():
        return installed
    return package.parent / "knowledge"


def load_knowledge(extra_dir: Path | None = None) -> KnowledgeBase:
    """Load the bundled files, then a site's own folder (which adds or overrides entries)."""
    entries, problems = read_entries(extra_dir)
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(entries)


def read_entries(extra_dir: Path | None = None) -> tuple[list[Entry], list[Problem]]:
    """Every entry and every problem, bundled files first so a site's files override them."""
    reading = read_knowledge(extra_dir)
    return reading.entries, reading.problems


@dataclass(frozen=True)
class SiteFile:
    """What one file of a site's folder did: the entries it added and those it replaced."""

    name: str
    added: tuple[str, ...]
    overridden: tuple[str, ...]

    def __str__(self) -> str:
        added = ", ".join(self.added) or "nothing"
        overridden = ", ".join(self.overridden) or "nothing"
        return f"{self.name}: adds {added}; overrides {overridden}"


@dataclass(frozen=True)
class Reading:
    """Everything the knowledge folders hold: the entries in force, every problem, and what
    each site file changed (`errdesk kb check` prints all three)."""

    entries: list[Entry]
    problems: list[Problem]
    site_files: list[SiteFile]


@dataclass(frozen=True)
class ParsedEntry:
    """One [[entry]] table of a file: its label, its key as far as it can be read, and the
    entry itself unless it has problems."""

    index: int
    label: str
    key: tuple[str, str] | None
    entry: Entry | None


def read_knowledge(extra_dir: Path | None = None) -> Reading:
    """Read the bundled folder, then the site's; check duplicates and `related` references
    against the entries in force at the end."""
    problems: list[Problem] = []
    bundled = bundled_dir()
    folders = [bundled]
    if extra_dir is not None:
        if extra_dir.is_dir():
            folders.append(extra_dir)
        else:
            problems.append(
                Problem(str(extra_dir), "", "", "ERRDESK_KNOWLEDGE_DIR is not a folder")
            )
    files = {folder: sorted(folder.glob("*.toml")) for folder in folders}
    # A site file named like a bundled one (ftp.toml) would be ambiguous: both go by path.
    shared_names = {path.name for path in files[bundled]} & {
        path.name for folder in folders[1:] for path in files[folder]
    }
    entries: dict[tuple[str, str], Entry] = {}
    located: dict[tuple[str, str], tuple[str, str]] = {}
    site_files: list[SiteFile] = []
    for folder in folders:
        if not files[folder]:
            problems.append(Problem(str(folder), "", "", _no_files_message(folder)))
        seen_here: dict[tuple[str, str], tuple[str, int]] = {}
        for path in files[folder]:
            shown = str(path) if path.name in shared_names else path.name
            parsed, file_problems = parse_file(path, shown)
            problems.extend(file_problems)
            added: list[str] = []
            overridden: list[str] = []
            for item in parsed:
                if item.key is not None and item.key in seen_here:
                    problems.append(_duplicate(shown, item, seen_here[item.key]))
                    continue
                if item.key is not None:
                    seen_here[item.key] = (shown, item.index)
                if item.entry is None:
                    continue
                changed = overridden if item.entry.key in entries else added
                changed.append(" ".join(item.entry.key))
                entries[item.entry.key] = item.entry
                located[item.entry.key] = (shown, item.label)
            if folder != bundled:
                site_files.append(SiteFile(shown, tuple(added), tuple(overridden)))
    problems.extend(_unknown_related(entries, located))
    return Reading(list(entries.values()), problems, site_files)


def _no_files_message(folder: Path) -> str:
    others = sorted(path.name for path in folder.iterdir())[:5] if folder.is_dir() else []
    found = f" (it holds {', '.join(others)})" if others else " (it is empty)"
    return f"no knowledge files (*.toml) in this folder{found}"


def _duplicate(file: str, item: ParsedEntry, first: tuple[str, int]) -> Problem:
    first_file, first_index = first
    where = "this file" if first_file == file else first_file
    protocol, code = item.key or ("", "")
    return Problem(
        file,
        item.label,
        "code",
        f"duplicate of {protocol} {code} already defined in {where} (entry {first_index})",
    )


def _unknown_related(
    entries: Mapping[tuple[str, str], Entry], located: Mapping[tuple[str, str], tuple[str, str]]
) -> Iterator[Problem]:
    for key, entry in entries.items():
        file, label = located[key]
        for reference in entry.related:
            protocol, code = related_key(entry, reference)
            if (protocol, code) not in entries:
                bare = " " not in reference
                read_as = f" (read as {protocol} {code})" if bare else ""
                yield Problem(file, label, "related", f"'{reference}' names no entry{read_as}")


def parse_file(path: Path, shown: str | None = None) -> tuple[list[ParsedEntry], list[Problem]]:
    """Every [[entry]] of one file; `shown` names the file in problems (its base name if None)."""
    name = shown or path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        return [], [Problem(name, "", "", f"cannot be read: {error}")]
    except tomllib.TOMLDecodeError as error:
        return [], [Problem(name, "", "", f"is not valid TOML: {error}")]
    except RecursionError:
        return [], [Problem(name, "", "", "is TOML nested too deeply to read")]
    raw_entries = data.get("entry")
    if not isinstance(raw_entries, list):
        return [], [Problem(name, "", "entry", "expected a list of [[entry]] tables")]
    if not raw_entries:
        return [], [Problem(name, "", "entry", "holds no entries")]
    parsed: list[ParsedEntry] = []
    problems: list[Problem] = []
    for index, raw in enumerate(raw_entries, start=1):
        label = _entry_label(index, raw)
        entry, entry_problems = _parse_entry(raw, name, label)
        problems.extend(entry_problems)
        parsed.append(ParsedEntry(index, label, _raw_key(raw), entry))
    return parsed, problems


def _raw_key(raw: Any) -> tuple[str, str] | None:
    """The (protocol, code) of an entry, when both read well, whatever its other fields."""
    if not isinstance(raw, dict):
        return None
    protocol, code = raw.get("protocol"), raw.get("code")
    if not isinstance(protocol, str) or not isinstance(code, str | int):
        return None
    protocol, code = protocol.strip().lower(), str(code)
    if protocol not in PROTOCOLS or not CODE_PATTERN.match(code):
        return None
    return (protocol, code)


def _entry_label(index: int, raw: Any) -> str:
    if isinstance(raw, dict):
        protocol, code = raw.get("protocol"), raw.get("code")
        if isinstance(protocol, str) and isinstance(code, str | int):
            return f"entry {index} ({protocol} {code})"
    return f"entry {index}"


class _Fields:
    """Reads typed fields from one raw entry, recording a Problem for each bad one."""

    def __init__(self, raw: dict[str, Any], file: str, label: str) -> None:
        self.raw, self.file, self.label = raw, file, label
        self.problems: list[Problem] = []

    def fail(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.file, self.label, field_name, message))

    def text(self, name: str, required: bool = True) -> str:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.fail(name, "is missing")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.fail(name, "must be a non-empty string")
            return ""
        return " ".join(value.split())

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.raw.get(name, [])
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item.strip() for item in value
        ):
            self.fail(name, "must be a list of non-empty strings")
            return ()
        return tuple(" ".join(item.split()) for item in value)


def _parse_entry(raw: Any, file: str, label: str) -> tuple[Entry | None, list[Problem]]:
    if not isinstance(raw, dict):
        return None, [Problem(file, label, "", "must be a table")]
    fields = _Fields(raw, file, label)
    for unknown in sorted(set(raw) - KNOWN_FIELDS):
        fields.fail(unknown, "is not a known field")

    protocol = fields.text("protocol").lower()
    if protocol and not _is_protocol(protocol):
        fields.fail("protocol", f"'{protocol}' is not one of {', '.join(PROTOCOLS)}")
    raw_code = raw.get("code")
    code = str(raw_code) if isinstance(raw_code, str | int) else ""
    if raw_code is None:
        fields.fail("code", "is missing")
    elif not CODE_PATTERN.match(code):
        fields.fail(
            "code",
            f"'{raw_code}' is not a code (digits, optionally a leading minus, "
            "or an HRESULT as 0x and eight upper-case hex digits)",
        )
    title = fields.text("title")
    meaning = fields.text("meaning")
    verdict = fields.text("verdict")
    if verdict and not _is_verdict(verdict):
        fields.fail("verdict", f"'{verdict}' is not one of {', '.join(VERDICTS)}")
    before_steps = len(fields.problems)
    steps = fields.texts("steps")
    # Reported whatever else is wrong, an unknown verdict included: all problems in one check.
    if verdict != "info" and not steps and len(fields.problems) == before_steps:
        fields.fail("steps", "is required unless the verdict is info")
    names = fields.texts("names")
    phrases = fields.texts("phrases")
    related = fields.texts("related")
    context = _parse_context(raw.get("context", []), fields)
    errno = _parse_errno(raw.get("errno", {}), fields)

    # A bad protocol or verdict has a problem already; the checks narrow their types.
    if fields.problems or not _is_protocol(protocol) or not _is_verdict(verdict):
        return None, fields.problems
    entry = Entry(
        protocol=protocol,
        code=code,
        title=title,
        meaning=meaning,
        verdict=verdict,
        steps=steps,
        names=names,
        phrases=phrases,
        context=context,
        related=related,
        errno=errno,
        source=file,
    )
    return entry, []


def _parse_context(value: Any, fields: _Fields) -> tuple[ContextAdvice, ...]:
    if not isinstance(value, list):
        fields.fail("context", "must be a list of [[entry.context]] tables")
        return ()
    items = []
    for position, item in enumerate(value, start=1):
        case = _parse_case(item, f"context[{position}]", fields)
        if case is not None:
            items.append(case)
    return tuple(items)


def _parse_case(item: Any, where: str, fields: _Fields) -> ContextAdvice | None:
    """One context case, every problem of it reported, or None when it has any."""
    if not isinstance(item, dict):
        fields.fail(where, "must be a table with 'when' (or 'wording') and 'advice'")
        return None
    before = len(fields.problems)
    for unknown in sorted(set(item) - CONTEXT_FIELDS):
        fields.fail(f"{where}.{unknown}", "is not a known field")
    when = _case_texts(item, "when", where, fields)
    wording = _case_texts(item, "wording", where, fields)
    if not when and not wording and "when" not in item and "wording" not in item:
        fields.fail(f"{where}.when", "a case needs 'when' or 'wording' (or both)")
    for token in when:
        if token.lower() not in SITUATIONS and not _COMMAND_WORD.match(token):
            fields.fail(
                f"{where}.when",
                f"'{token}' is neither a command (upper case) nor one of "
                f"{', '.join(sorted(SITUATIONS))}",
            )
    advice = item.get("advice")
    if not isinstance(advice, str) or not advice.strip():
        fields.fail(f"{where}.advice", "must be a non-empty string")
    steps = _case_texts(item, "steps", where, fields)
    verdict = item.get("verdict")
    because = item.get("because")
    if verdict is not None and not _is_verdict(verdict):
        fields.fail(f"{where}.verdict", f"'{verdict}' is not one of {', '.join(VERDICTS)}")
    if verdict is not None and (not isinstance(because, str) or not because.strip()):
        fields.fail(f"{where}.because", "is required with a verdict: say what decided it")
    if because is not None and verdict is None:
        fields.fail(f"{where}.because", "goes with a verdict")
    if len(fields.problems) > before:
        return None
    return ContextAdvice(
        when=when,
        advice=" ".join(str(advice).split()),
        wording=wording,
        steps=steps,
        verdict=verdict,
        because=" ".join(because.split()) if isinstance(because, str) else None,
    )


def _case_texts(item: dict[str, Any], name: str, where: str, fields: _Fields) -> tuple[str, ...]:
    value = item.get(name, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        fields.fail(f"{where}.{name}", "must be a string or a list of non-empty strings")
        return ()
    return tuple(" ".join(v.split()) for v in value)


def _parse_errno(value: Any, fields: _Fields) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
        key in ("linux", "macos") and isinstance(number, int) for key, number in value.items()
    ):
        fields.fail("errno", "must be a table with integer 'linux' and/or 'macos' numbers")
        return {}
    return dict(value)


def _is_protocol(value: object) -> TypeGuard[Protocol]:
    return value in PROTOCOLS


def _is_verdict(value: object) -> TypeGuard[Verdict]:
    return value in VERDICTS
