"""Context cases say who can fix it in their situation, with steps of their own, and no entry
says the same thing twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import combinations

import pytest
from rapidfuzz import fuzz, utils

from bot.engine.knowledge import SITUATIONS, ContextAdvice, Entry
from tests.support import bundled_kb

# Two steps whose token-set agreement reaches 80 repeat the shorter one almost word for word: on
# the bundled files every such pair said the same thing when read by hand, while distinct steps on
# one topic (update the client, switch to passive mode) share words up to about 77.
SAME_STEP = 80
# The files whose steps have been read for repetition; others join once they have been.
REVIEWED_PROTOCOLS = ("ftp", "sftp", "http", "winsock", "ssh", "tls", "curl", "wininet", "windows")
# A wording is matched inside the whole message: shorter ones turn up inside ordinary words.
MIN_WORDING = 5
MAX_BECAUSE = 120
SITUATION_KEYS = frozenset(situation.upper() for situation in SITUATIONS)
# An entry has more than one plausible fixer when one of its steps asks someone other than the
# fixer its verdict names to act: the server's administrator, provider or host (admin), or the
# network team or ISP (isp). The steps are the evidence because they are where an entry already
# says who acts. Steps that only send a log or a time to the administrator for diagnosis ("if
# it persists, send the log line to the server's administrator") are not counted: they pass on
# information, and the person may still be the one who fixes it.
SENT_TO_THE_SERVER_SIDE = re.compile(
    r"\b(?:ask|contact|tell|email|write to|call)\b[^.;:]{0,40}"
    r"\b(?:administrator|admin|provider|host|hosting|owner)\b",
    re.I,
)
SENT_TO_THE_NETWORK = re.compile(
    r"\b(?:ask|contact|tell|call)\b[^.;:]{0,40}"
    r"\b(?:network team|ISP|internet provider|IT team|IT department|help desk)\b",
    re.I,
)


def _entries() -> list[Entry]:
    return list(bundled_kb())


def _verdict_cases() -> Iterator[tuple[Entry, int, ContextAdvice]]:
    for entry in _entries():
        for number, case in enumerate(entry.context, start=1):
            if case.verdict is not None:
                yield entry, number, case


def _same(first: str, second: str) -> bool:
    return fuzz.token_set_ratio(first, second, processor=utils.default_process) >= SAME_STEP


def _steps(entry: Entry) -> list[tuple[str, str]]:
    """Every step the entry can show, each with where it stands."""
    steps = [("steps", step) for step in entry.steps]
    for number, case in enumerate(entry.context, start=1):
        steps += [(f"context[{number}]", step) for step in case.own_steps]
    return steps


def _other_fixers(entry: Entry) -> set[str]:
    """The fixers an entry's steps send the person to, besides the one its verdict names."""
    fixers = set()
    for step in entry.steps:
        if SENT_TO_THE_NETWORK.search(step):
            fixers.add("isp")
        elif SENT_TO_THE_SERVER_SIDE.search(step):
            fixers.add("admin")
    return fixers - {entry.verdict}


def test_an_entry_with_more_than_one_plausible_fixer_has_a_case_for_another() -> None:
    """Where the steps hand the problem to someone else in some situation, a context case must
    say which situation that is, so the verdict follows it."""
    lacking = [
        f"{entry.label} ({entry.verdict}; steps also send to {', '.join(sorted(others))})"
        for entry in _entries()
        if entry.protocol in REVIEWED_PROTOCOLS
        and entry.is_failure
        and (others := _other_fixers(entry))
        and not any(case.verdict not in (None, entry.verdict) for case in entry.context)
    ]
    assert not lacking, "entries with no case for their other fixer:\n" + "\n".join(lacking)


def test_every_case_with_a_verdict_has_a_step_of_its_own() -> None:
    borrowed = [
        f"{entry.label} context[{number}]"
        for entry, number, case in _verdict_cases()
        if all(any(_same(own, general) for general in entry.steps) for own in case.own_steps)
    ]
    assert not borrowed, f"cases whose every step repeats a general step: {borrowed}"


def test_no_entry_says_the_same_thing_twice() -> None:
    repeated = [
        f"{entry.label} {where}: {first[:60]!r} / {other_where}: {second[:60]!r}"
        for entry in _entries()
        if entry.protocol in REVIEWED_PROTOCOLS
        for (where, first), (other_where, second) in combinations(_steps(entry), 2)
        if _same(first, second)
    ]
    assert not repeated, "steps that say the same thing:\n" + "\n".join(repeated)


def test_a_case_with_a_verdict_names_at_most_one_command() -> None:
    """Every item of `when` must hold, and a failure answers one command: a verdict tied to
    several commands could never be chosen."""
    several = [
        f"{entry.label} context[{number}]: {sorted(case.keys - SITUATION_KEYS)}"
        for entry, number, case in _verdict_cases()
        if len(case.keys - SITUATION_KEYS) > 1
    ]
    assert not several, f"cases with a verdict that name several commands: {several}"


def test_no_two_cases_with_the_same_conditions_name_different_verdicts() -> None:
    clashes = [
        f"{entry.label} context[{entry.context.index(a) + 1}] and [{entry.context.index(b) + 1}]"
        for entry in _entries()
        for a, b in combinations([case for case in entry.context if case.verdict], 2)
        if (a.keys, set(a.folded_wording)) == (b.keys, set(b.folded_wording))
        and a.verdict != b.verdict
    ]
    assert not clashes, f"cases that apply together and disagree on who fixes it: {clashes}"


def test_because_is_a_short_clause_that_follows_the_word_because() -> None:
    odd = [
        f"{entry.label} context[{number}]: {case.because!r}"
        for entry, number, case in _verdict_cases()
        if case.because is None
        or len(case.because) > MAX_BECAUSE
        or case.because.endswith(".")
        or case.because.lower().startswith("because")
    ]
    assert not odd, f"'because' should read 'because <clause>' in under {MAX_BECAUSE} chars: {odd}"


def test_wordings_are_long_enough_not_to_match_everywhere() -> None:
    short = [
        f"{entry.label}: {wording!r}"
        for entry in _entries()
        for case in entry.context
        for wording in case.wording
        if len(wording) < MIN_WORDING
    ]
    assert not short, f"wordings under {MIN_WORDING} characters: {short}"


@pytest.mark.parametrize(
    ("protocol", "code", "cues", "text", "verdict"),
    [
        (
            "ftp",
            "425",
            ["passive", "private-address"],
            "227 Entering Passive Mode (10,0,0,5,195,80)",
            "admin",
        ),
        (
            "ftp",
            "500",
            [],
            "500 OOPS: vsftpd: refusing to run with writable root inside chroot()",
            "admin",
        ),
        ("ftp", "421", [], "421 Too many connections (8) from this IP", "you"),
        ("ftp", "530", [], "530 User account is disabled.", "admin"),
        ("ftp", "550", [], "550 SIZE not allowed in ASCII mode", "info"),
        ("winsock", "10054", ["works-for-others"], "[WinError 10054] ...", "you"),
        ("winsock", "10060", ["works-for-others"], "[WinError 10060] ...", "you"),
        ("winsock", "10060", ["read-timeout"], "SocketTimeoutException: Read timed out", "admin"),
        ("http", "403", [], "Access to this site is blocked by your organization's policy", "isp"),
    ],
)
def test_the_situation_names_the_expert_s_fixer(
    protocol: str, code: str, cues: list[str], text: str, verdict: str
) -> None:
    entry = bundled_kb().get(protocol, code)
    assert entry is not None, f"no entry {protocol} {code}"
    decided = [case for case in entry.cases_for(cues, text) if case.verdict]
    assert decided, f"{entry.label}: no case with a verdict applies to {cues} {text!r}"
    assert decided[0].verdict == verdict, (
        f"{entry.label}: {decided[0].verdict} because {decided[0].because}, wanted {verdict}"
    )
