"""The bundled knowledge covers every reference code, with advice a person can act on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict

import pytest

from bot.engine.knowledge import VERDICTS
from bot.engine.recognize import normalize
from tests.support import (
    ERRNO_MAP,
    LAYERS_CODES,
    REFERENCE_CODES,
    bundled_kb,
    engine,
    reference,
)

needs_reference = pytest.mark.skipif(
    not REFERENCE_CODES.is_file(), reason=f"the shared reference is not here ({REFERENCE_CODES})"
)
needs_layers = pytest.mark.skipif(
    not LAYERS_CODES.is_file(), reason=f"the shared layers reference is not here ({LAYERS_CODES})"
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


def _explained(queries: list[str]) -> list[dict]:
    """`errdesk explain --jsonl` on the queries, one JSON answer per query, in order."""
    lines = "".join(json.dumps({"text": query}) + "\n" for query in queries)
    run = subprocess.run(
        [sys.executable, "-m", "bot", "explain", "--jsonl"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(results) == len(queries), "one JSON line per input line, in order"
    return results


def _decisive_key(result: dict) -> tuple[str, str] | None:
    decisive = result["decisive"]
    return (decisive["protocol"], decisive["code"]) if decisive else None


@needs_reference
def test_a_short_query_for_every_reference_code_finds_it_through_the_cli() -> None:
    items = reference(REFERENCE_CODES)
    queries = [(item, query) for item in items for query in _queries(item)]
    results = _explained([query for _, query in queries])
    misses = [
        f"{query!r} -> {result['decisive']}"
        for (item, query), result in zip(queries, results, strict=True)
        if _decisive_key(result) != (item["protocol"], item["code"])
    ]
    rate = 1 - len(misses) / len(queries)
    print(f"\nreference queries: {rate:.1%} of {len(queries)} answered with their own code")
    assert rate >= 0.98, "\n".join(misses)


# The layers around the protocols: SSH disconnects, TLS alerts, curl exit codes, WinINet, Win32.
LAYERS = ("ssh", "tls", "curl", "wininet", "windows")
# TLS registry names that are plain words other protocols use as well: HTTP/2's PROTOCOL_ERROR
# and INTERNAL_ERROR (curl 92 prints them), OAuth's access_denied. Alone they name no alert.
GENERIC_NAMES = frozenset({"access_denied", "decode_error", "protocol_version", "internal_error"})
# The prefixes of each family's own symbolic names, for the aliases a name check can hold.
FAMILY_PREFIXES = {
    "ssh": ("SSH_DISCONNECT_", "SSH2_DISCONNECT_"),
    "tls": ("SSL_AD_", "SSL_R_", "GNUTLS_A_"),
    "curl": ("CURLE_",),
    "wininet": ("ERROR_INTERNET_", "ERROR_WINHTTP_", "ERROR_HTTP_", "ERROR_FTP_", "WININET_E_"),
    "windows": ("ERROR_", "SEC_E_", "SEC_I_", "CERT_E_", "CRYPT_E_", "TRUST_E_", "NERR_"),
}
_HRESULT = re.compile(r"0x8[0-9A-F]{7}")
# Values for the reference's placeholders, as a real message would hold them.
PLACEHOLDERS = {
    "<ip>": "192.0.2.10",
    "<port>": "50122",
    "<host>": "files.example.com",
    "<user>": "alice",
    "<n>": "1349676916",
    "<text>": "Bye",
    "<list>": "diffie-hellman-group1-sha1,ssh-rsa",
    "<kex>": "diffie-hellman-group1-sha1",
    "<fp>": "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
    "<key>": "AAAAB3NzaC1yc2EAAAADAQABAAABAQ",
    "<reason>": "timeout",
    "<t>": "2024-05-01T10:00:00Z",
    "<socket error>": "Connection reset by peer",
    "<error>": "Broken pipe",
    "<name>": "www.example.com",
    "<names>": "www.example.com, example.com",
    "<id>": "140736",
    "<v>": "TLS 1.0",
    "<versions>": "TLS 1.0",
    "<system message>": "Access is denied.",
}
# Where a message was seen, which the reference adds in parentheses: "(IIS FTP reply)".
_WHERE_SEEN = re.compile(r"\s\((?:IIS|Explorer|File Explorer|net use)\b[^()]*\)$")
# A message that shows a second layer's code in its own shape is one layer wrapping another:
# curl's exit code around what failed inside it, an IIS FTP reply around the Win32 error whose
# text it quotes, curl around the SChannel HRESULT. The reference places each under one of the
# two by judgement (its `note` fields); either is the message's own code.
_WRAPPERS = (
    (re.compile(r"^curl: \((?P<code>\d+)\)"), "curl"),
    (re.compile(r"^(?P<code>[1-5]\d\d) "), "ftp"),
    (re.compile(r"\((?P<code>0x8[0-9A-F]{7})\)"), "windows"),
)
# Wordings two families print alike, where the reference's placement is a judgement its notes
# explain and the other reading is as right: the message, and the other code accepted.
SHARED_WORDINGS = {
    # PuTTY's words for a socket error before any SSH session: listed under SSH 10 "for coverage".
    "Network error: Connection reset by peer": ("winsock", "10054"),
    "Network error: Software caused connection abort": ("winsock", "10053"),
    "Network error: Connection refused": ("winsock", "10061"),
    "Network error: Connection timed out": ("winsock", "10060"),
    # The banner read failed because the connection was reset: the reset is as decisive.
    "paramiko.ssh_exception.SSHException: Error reading SSH protocol banner[Errno 104] "
    "Connection reset by peer": ("winsock", "10054"),
    # A lost connection: SFTP's own status 7 and SSH's reason 10 mean the same.
    "Connection closed": ("sftp", "7"),
    # PuTTY's refused login, and the Win32 text of ERROR_ACCESS_DENIED.
    "Access denied": ("windows", "5"),
    "Access denied.": ("windows", "5"),
    # OpenSSH's MaxAuthTries, which FTP servers also print with their 421.
    "Too many authentication failures": ("ftp", "421"),
    # A TLS connection dropped without close_notify: the socket's reset is what dropped it.
    "GnuTLS could not read from socket: <socket error>": ("winsock", "10054"),
    "ECONNRESET: read ECONNRESET": ("winsock", "10054"),
    # OpenSSL's reason for a refused TLS version, and libcurl's text for CURLE_UNSUPPORTED_PROTOCOL.
    "unsupported protocol": ("curl", "1"),
    # A SocketException carries a Winsock number: 995 is WSA_OPERATION_ABORTED as much.
    "System.Net.Sockets.SocketException (995): The I/O operation has been aborted because of "
    "either a thread exit or an application request.": ("winsock", "995"),
    # Win32 texts that IIS FTP sends as its 450 and 452 replies: without the reply code, the
    # wording is the FTP entry's as much as the Win32 error's.
    "System.IO.IOException: The process cannot access the file '<path>' because it is being "
    "used by another process.": ("ftp", "450"),
    "System.IO.IOException: There is not enough space on the disk.": ("ftp", "452"),
    # SChannel's text for SEC_E_ALGORITHM_MISMATCH, which the reference also lists under alert 40.
    "The client and server cannot communicate because they do not possess a common algorithm.": (
        "tls",
        "40",
    ),
}


def _layer_codes() -> list[dict]:
    return [
        item
        for item in reference(LAYERS_CODES)
        if item["kind"] == "code" and not item.get("optional")
    ]


def _layer_short_queries(item: dict) -> list[str]:
    protocol, code, name = item["protocol"], item["code"], item["name"]
    queries = {
        "ssh": [f"ssh disconnect reason {code}"],
        "tls": [f"tls {code}", f"TLS alert {code}"],
        "curl": [f"curl: ({code})", f"curl error {code}"],
        "wininet": [f"WinINet error {code}"],
        "windows": [f"HRESULT {code}" if code.startswith("0x") else f"Win32 error {code}"],
    }[protocol]
    return queries if name in GENERIC_NAMES else [*queries, f"got {name}"]


def _filled(message: str, protocol: str) -> str:
    message = _WHERE_SEEN.sub("", message)
    path = "C:\\data\\report.csv" if protocol == "windows" else "/srv/upload/report.csv"
    message = message.replace("<path>", path)
    for placeholder, value in PLACEHOLDERS.items():
        message = message.replace(placeholder, value)
    return message


def _accepted(item: dict, message: str, filled: str) -> set[tuple[str, str]]:
    """The message's own code, and the other code a wrapping or shared wording allows."""
    accepted = {(item["protocol"], item["code"])}
    for shape, family in _WRAPPERS:
        match = shape.search(filled)
        if match:
            accepted.add((family, match["code"]))
    if message in SHARED_WORDINGS:
        accepted.add(SHARED_WORDINGS[message])
    return accepted


def _layer_queries() -> list[tuple[str, tuple[str, str], set[tuple[str, str]]]]:
    """Each query, the code the reference places it under, and the codes accepted for it."""
    queries = []
    for item in _layer_codes():
        own = (item["protocol"], item["code"])
        queries += [(query, own, {own}) for query in _layer_short_queries(item)]
        for message in item["messages"]:
            filled = _filled(message, item["protocol"])
            queries.append((filled, own, _accepted(item, message, filled)))
    return queries


@needs_layers
def test_every_layer_code_has_an_entry() -> None:
    kb = bundled_kb()
    items = _layer_codes()
    missing = [
        f"{i['protocol']} {i['code']}" for i in items if kb.get(i["protocol"], i["code"]) is None
    ]
    assert {item["protocol"] for item in items} == set(LAYERS)
    assert missing == [], f"no entry for: {', '.join(missing)}"


@needs_layers
def test_the_layers_symbolic_names_are_names_of_their_code() -> None:
    """Each code's own name, and the aliases spelt in its family's way (CURLE_*, SEC_E_*,
    0x80072EFD), lead to that code and no other."""
    kb = bundled_kb()
    wrong = []
    for item in _layer_codes():
        key = (item["protocol"], item["code"])
        prefixes = FAMILY_PREFIXES[item["protocol"]]
        names = [item["name"], *(a for a in item["aliases"] if a.startswith(prefixes))]
        names += [alias for alias in item["aliases"] if _HRESULT.fullmatch(alias)]
        for name in names:
            entry = kb.by_name(name)
            if name not in GENERIC_NAMES and (entry is None or entry.key != key):
                wrong.append(f"{name}: {entry.key if entry else 'unknown'}, not {key}")
    assert wrong == [], "\n".join(wrong)


@needs_layers
def test_generic_tls_names_are_no_names_of_an_alert() -> None:
    kb = bundled_kb()
    known = {name: kb.by_name(name).key for name in GENERIC_NAMES if kb.by_name(name)}
    assert known == {}, "plain words other protocols use must not name an alert alone"


@needs_layers
def test_a_short_query_and_every_message_of_the_layers_find_their_code_through_the_cli() -> None:
    queries = _layer_queries()
    keys = [_decisive_key(result) for result in _explained([query for query, _, _ in queries])]
    misses = [
        f"{query!r} -> {key}, wanted one of {sorted(accepted)}"
        for (query, _, accepted), key in zip(queries, keys, strict=True)
        if key not in accepted
    ]
    placed = sum(key == own for (_, own, _), key in zip(queries, keys, strict=True))
    rate = 1 - len(misses) / len(queries)
    print(
        f"\nlayer queries: {rate:.1%} of {len(queries)} answered with their own code "
        f"({placed / len(queries):.1%} with the one the reference places them under)"
    )
    assert rate >= 0.98, "\n".join(misses)


@needs_layers
def test_a_direct_lookup_of_every_layer_code_answers_that_code() -> None:
    lookup = engine().lookup
    wrong = []
    for item in _layer_codes():
        key = (item["protocol"], item["code"])
        answer = lookup(f"{item['protocol']} {item['code']}")
        if answer.decisive is None or answer.decisive.key != key:
            wrong.append(f"{key} -> {answer.decisive and answer.decisive.key}")
    assert wrong == [], wrong
