"""The bundled knowledge covers every reference code, with advice a person can act on."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

import pytest

from bot.engine.knowledge import VERDICTS
from bot.engine.recognize import normalize
from tests.support import ERRNO_MAP, REFERENCE_CODES, bundled_kb, reference

needs_reference = pytest.mark.skipif(
    not REFERENCE_CODES.is_file(), reason=f"the shared reference is not here ({REFERENCE_CODES})"
)


@needs_reference
def test_every_reference_code_has_an_entry() -> None:
    kb = bundled_kb()
    missing = [
        f"{item['protocol']} {item['code']}"
        for item in reference(REFERENCE_CODES)
        if kb.get(item["protocol"], item["code"]) is None
    ]
    assert missing == [], f"no entry for: {', '.join(missing)}"


@needs_reference
def test_symbolic_names_of_the_reference_are_known() -> None:
    kb = bundled_kb()
    wrong = []
    for item in reference(REFERENCE_CODES):
        name = item["name"]
        if name.startswith(("SSH_FX_", "WSA")):
            entry = kb.by_name(name)
            if entry is None or entry.key != (item["protocol"], item["code"]):
                wrong.append(name)
    assert wrong == [], f"names not mapped to their code: {wrong}"


@pytest.mark.skipif(not ERRNO_MAP.is_file(), reason=f"the errno map is not here ({ERRNO_MAP})")
def test_posix_twins_carry_their_linux_and_macos_numbers() -> None:
    kb = bundled_kb()
    wrong = []
    for item in reference(ERRNO_MAP):
        if item["kind"] != "errno" or "winsock_code" not in item:
            continue
        entry = kb.get("winsock", str(item["winsock_code"]))
        if entry is None or kb.by_name(item["name"]) is not entry:
            wrong.append(f"{item['name']}: not a name of winsock {item['winsock_code']}")
        elif "linux" in item and entry.errno.get("linux") != item["linux"]:
            wrong.append(f"{item['name']}: linux number {entry.errno.get('linux')}")
    assert wrong == [], "\n".join(wrong)


def test_verdicts_are_valid_and_non_info_entries_have_steps() -> None:
    problems = [
        entry.label
        for entry in bundled_kb()
        if entry.verdict not in VERDICTS or (entry.verdict != "info" and not entry.steps)
    ]
    assert problems == [], f"entries without a valid verdict or steps: {problems}"


def test_steps_are_concrete_not_just_contact_support() -> None:
    lazy = [
        entry.label
        for entry in bundled_kb()
        if entry.steps and all("contact support" in step.lower() for step in entry.steps)
    ]
    assert lazy == []


def test_no_wording_belongs_to_two_entries_of_one_protocol() -> None:
    """Across protocols a shared wording is fine: the text's protocol cues pick the reading."""
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for entry in bundled_kb():
        for phrase in entry.phrases:
            owners[(entry.protocol, normalize(phrase))].add(entry.label)
    shared = {phrase: sorted(labels) for phrase, labels in owners.items() if len(labels) > 1}
    assert shared == {}, f"phrases that would make the matcher ambiguous: {shared}"


@pytest.mark.parametrize(
    ("code", "commands"),
    [
        ("425", {"PASSIVE", "ACTIVE"}),
        ("426", set()),
        ("450", set()),
        ("451", set()),
        ("452", set()),
        ("530", set()),
        ("534", set()),
        ("550", {"STOR", "RETR", "CWD", "DELE", "MKD", "RNFR"}),
        ("552", set()),
        ("553", set()),
    ],
)
def test_ftp_entries_whose_advice_depends_on_the_command_have_context(
    code: str, commands: set[str]
) -> None:
    entry = bundled_kb().get("ftp", code)
    assert entry is not None
    assert entry.context, f"ftp {code} needs context-specific advice"
    covered = {token.upper() for item in entry.context for token in item.when}
    assert commands <= covered, f"ftp {code} lacks advice after {commands - covered}"


def test_verdicts_that_matter_most_are_as_a_helpdesk_expects() -> None:
    kb = bundled_kb()
    expected = {
        ("ftp", "331"): "you",
        ("ftp", "426"): "isp",
        ("ftp", "452"): "admin",
        ("ftp", "552"): "admin",
        ("ftp", "530"): "you",
        ("ftp", "226"): "info",
    }
    actual = {key: kb.get(*key).verdict for key in expected}
    assert actual == expected


def _queries(item: dict) -> list[str]:
    protocol, code, name = item["protocol"], item["code"], item["name"]
    if protocol == "ftp":
        return [f"FTP error {code}"]
    if protocol == "sftp":
        extra = [f"got {name}"] if name.startswith("SSH_FX") else []
        return [f"SFTP error code {code}", *extra]
    if protocol == "http":
        return [f"HTTP {code} error"]
    extra = [f"Error: {item['posix_errno_name']}"] if item.get("posix_errno_name") else []
    return [f"socket error {code}", *extra]


@needs_reference
def test_a_short_query_for_every_reference_code_finds_it_through_the_cli() -> None:
    items = reference(REFERENCE_CODES)
    queries = [(item, query) for item in items for query in _queries(item)]
    lines = "".join(json.dumps({"text": query}) + "\n" for _, query in queries)
    run = subprocess.run(
        [sys.executable, "-m", "bot", "explain", "--jsonl"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(results) == len(queries), "one JSON line per input line, in order"
    misses = []
    for (item, query), result in zip(queries, results, strict=True):
        decisive = result["decisive"]
        if not decisive or (decisive["protocol"], decisive["code"]) != (
            item["protocol"],
            item["code"],
        ):
            misses.append(f"{query!r} -> {decisive}")
    rate = 1 - len(misses) / len(queries)
    print(f"\nreference queries: {rate:.1%} of {len(queries)} answered with their own code")
    assert rate >= 0.98, "\n".join(misses)
