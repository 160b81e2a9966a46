"""Decide: which finding is the one the person needs explained, and whether to speak unasked."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.engine.recognize import Finding

_I = re.I | re.A
# Replies that only say an earlier command failed ("503 RNFR required first").
_CONSEQUENCES = frozenset({("ftp", "503")})
# A code defined rather than met: "10061 oznacza...", "499 means...", "10054 es ..., 10053 es".
_DEFINITION = re.compile(
    r"(?<![\w.])(?:[1-6]\d\d|1[01]\d{3})\s+(?:(?:just |simply |basically )?(?:means|meaning|"
    r"oznacza|znaczy|significa|signifie|bedeutet|heißt|betekent|означает|anlam[ıi]na))\b|"
    # a name defined: "ECONNREFUSED is 111 on Linux", "WSAECONNRESET means ..." (upper case)
    r"(?-i:\b(?:E[A-Z]{4,}|WSAE[A-Z]+|SSH2?_FX_[A-Z_]+)\s+(?:is|means|=)\s)",
    _I,
)
# Cheap substring checks that a text can match the patterns above at all.
_RESOLVED_WORDS = (
    "fyi", "for anyone", "turned out", "root cause", "fixed", "solved", "resolved", "nit:",
    "lgtm", "changelog", "release note", "what's new", "releas", "gone", "no longer", "this pr",
    "it was", "whoever", "closing", "stopped", "baseline", "normal", "ok", "succeeded",
    "successful", "worked", "- ", "* ",
)  # fmt: skip
_DEFINITION_WORDS = (
    "mean", "oznacza", "znaczy", "signif", "bedeutet", "heißt", "betekent", "означает", "anlam",
    " is ", " = ",
)  # fmt: skip
_COPULA_AFTER_CODE = re.compile(
    r"(?<![\w.])(?P<code>[1-6]\d\d|1[01]\d{3})\s+(?:is|es|est|ist|è|é|to|jest)\s", _I
)
# Sentences that talk about an error rather than report one.
_DISCUSSION = re.compile(
    r"\bif you\b|\bwould\b|\b(?:i|we|you|they)'d\b|\bretr(?:y|ies|ying)\b[^.\n]{0,20}\bon\b|"
    r"\bshould\b[^.?!\n]{0,40}\b(?:be|return|send|respond|answer|give|get|use|treat|map)\b|"
    r"\bmeans\b|\binstead of\b|\bwhether\b|\bdifference between\b|\bfix(?:es|ed)\b|"
    r"\bmaps?\b[^.\n]{0,60}\bto\b|\btreat\b[^.\n]{0,40}\bas\b|\bI agree\b|#define\b|"
    r"\bfor example\b|"
    r"\be\.g\.|\bstartswith\(|\bresp(?:onse)?\.status|\bstatus_code\s*==",
    _I,
)
# Anywhere in a message: the writer reports a resolution or reviews code, not a live error.
_RESOLVED = re.compile(
    r"\bfyi\b|\bfor anyone (?:searching|reading|finding|hitting|landing)|\bturned out\b|"
    r"\broot cause (?:was|is)\b|\b(?:fixed|solved|resolved) (?:it |this )?by\b|^\s*nit:|"
    r"\blgtm\b|\bchangelog\b|\brelease notes?\b|\bwhat's new\b|\breleased?\s+v?\d+\.\d|"
    r"\b(?:is|are) (?:gone|fixed|solved|resolved)\b|\bno longer\b|\bthis pr\b|"
    r"\bit was (?:the|a|an|our|my)\b|\bfor whoever\b|"
    r"\bclosing (?:the|this) (?:thread|issue|ticket)|"
    r"\b(?:errors?|failures?|resets?|timeouts?) (?:have |has )?stopped\b|^\W*\[?resolved\b|"
    r"\bback to (?:baseline|normal)\b|"
    r"\b(?:retry|attempt)\b[^.\n]{0,20}\b(?:ok|succeeded|successful|worked)\b|"
    # a changelog or to-do list: bullets that start with what the change does
    r"^\s*[-*]\s+(?:handle[sd]?|add(?:s|ed)?|fix(?:es|ed)?|treat|prefer|retry|map|support|"
    r"bump|update|remove)\b",
    _I | re.M,
)
# A config value: a key whose value is a list of codes or names ("on_errno: [ECONNRESET, ...]").
_CONFIG_LIST = re.compile(r"^\s*[\"']?[\w.-]+[\"']?\s*[:=]\s*\[[^\]\n]*,", re.M)


def decisive(findings: list[Finding], text: str = "") -> Finding | None:
    """The one error the person needs explained: errors before info; probes, and errors
    that only follow from an earlier one, last."""
    if not findings:
        return None
    first_failure = min((f.span[0] for f in findings if f.entry.is_failure), default=len(text))
    # Python names the original exception first: what follows this line is a consequence.
    aftermath = text.find("During handling of the above exception")

    def weight(finding: Finding) -> tuple[bool, bool, float, int]:
        score = finding.confidence
        if finding.failure.probe and finding.entry.is_failure:
            score -= 0.35
        if finding.entry.key in _CONSEQUENCES and finding.span[0] > first_failure:
            score -= 0.3
        if 0 <= aftermath < finding.span[0]:
            score -= 0.2
        score += min(finding.mentions - 1, 3) * 0.02
        entry = finding.entry
        return (entry.is_failure, entry.verdict != "info", score, -finding.span[0])

    return max(findings, key=weight)


def discussed(text: str, finding: Finding, findings: Iterable[Finding] = ()) -> bool:
    """Whether the message talks about the error (explains, documents, configures, closes
    it) rather than reports meeting it: the sentence holding it, and the message."""
    start, end = finding.span
    low = max(0, start - 200)
    left = max(text.rfind(".", low, start), text.rfind("\n", low, start), low - 1)
    stops = [
        i for i in (text.find(".", end, end + 200), text.find("\n", end, end + 200)) if i != -1
    ]
    right = min([*stops, end + 200])
    if _DISCUSSION.search(text, left + 1, right) is not None:
        return True
    lowered = text.lower()
    if any(word in lowered for word in _RESOLVED_WORDS) and _RESOLVED.search(text):
        return True
    if any(word in lowered for word in _DEFINITION_WORDS) and _DEFINITION.search(text):
        return True
    defined = {m["code"] for m in _COPULA_AFTER_CODE.finditer(text)}
    if len(defined) >= 2:  # a glossary: "10054 is ..., 10053 is ..."
        return True
    if "[" in text and _CONFIG_LIST.search(text):
        return True
    # A list or table of four different errors is a reference, not one failure met.
    return len({f.entry.key for f in findings if f.entry.is_failure}) >= 4
