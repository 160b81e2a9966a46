"""What every recognizer returns: a Finding, and the few text helpers they share."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bot.engine.knowledge import Entry
from bot.engine.triage import FailureContext

# How a finding was recognized: a number in context, an errno, a symbolic name, a known wording,
# an explicit lookup ("sftp 3"), or the closest wording to a free-text question.
FindingKind = Literal["code", "errno", "name", "phrase", "lookup", "search"]

_TOKEN = re.compile(r"\w+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_DOTLESS_I = "\u0131"
# How far to look for the ends of a line: a megabyte-long line must not be scanned per number.
LINE_REACH = 512


# Words too common to tell one wording or title from another.
STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "for",
        "is",
        "was",
        "be",
        "by",
        "it",
        "this",
        "that",
        "and",
        "or",
        "not",
        "no",
        "with",
        "from",
        "at",
        "as",
        "are",
        "your",
        "you",
        "has",
        "have",
        "had",
        "been",
        "can",
        "could",
        "may",
        "will",
        "any",
        "all",
        "its",
    ]
)


@dataclass(frozen=True)
class Finding:
    """One error seen in a text: what it is, where, how sure, and the situation around it."""

    entry: Entry
    confidence: float
    span: tuple[int, int]
    kind: FindingKind
    matched: str
    readings: tuple[Entry, ...] = ()
    failure: FailureContext = field(default_factory=FailureContext)
    mentions: int = 1
    # Whether a number and a wording agreed ("Error code: 18" and "Directory not empty").
    corroborated: bool = False
    # Whether the text itself chose `entry` among `readings` (its wording follows the code, or
    # its protocol's cues outnumber every other reading's), rather than a prior alone.
    reading_settled: bool = False

    @property
    def is_number(self) -> bool:
        return self.kind in ("code", "errno")

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.entry.protocol,
            "code": self.entry.code,
            "title": self.entry.title,
            "confidence": round(self.confidence, 3),
            "span": list(self.span),
            "kind": self.kind,
            "matched": self.matched,
        }


def cues_settle(chosen: Entry, readings: Iterable[Entry], protocols: Mapping[str, float]) -> bool:
    """Whether the text's protocol cues pick `chosen` over every other reading."""
    others = [protocols[r.protocol] for r in readings if r.protocol != chosen.protocol]
    return not others or protocols[chosen.protocol] > max(others)


def normalize(text: str) -> str:
    """Lower case words only: 'FileNotFound' and "file not found." compare equal. A Turkish
    keyboard's dotless i ("pkıx path") is an i: English error text typed there holds it."""
    folded = _CAMEL.sub(" ", text).casefold().replace(_DOTLESS_I, "i")
    return " ".join(_TOKEN.findall(folded))


def line_start(text: str, position: int) -> int:
    low = max(0, position - LINE_REACH)
    found = text.rfind("\n", low, position)
    return found + 1 if found != -1 else low


def line_end(text: str, position: int) -> int:
    high = position + LINE_REACH
    found = text.find("\n", position, high)
    return found if found != -1 else min(len(text), high)


def merge(findings: list[Finding]) -> list[Finding]:
    """One finding per entry: the surest mention, counting how often it was seen. A number and
    a wording that agree ("Error code: 18" and "Directory not empty") are independent evidence
    and count for more than the same one seen twice."""
    best: dict[tuple[str, str], Finding] = {}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    first: dict[tuple[str, str], tuple[int, int]] = {}
    for finding in findings:
        key = finding.entry.key
        counts[key] += 1
        kinds[key].add("number" if finding.is_number else "wording")
        if key not in first or finding.span[0] < first[key][0]:
            first[key] = finding.span
        if key not in best or finding.confidence > best[key].confidence:
            best[key] = finding
    merged = []
    for key, finding in best.items():
        corroborated = len(kinds[key]) > 1
        bonus = 0.1 if corroborated else 0.05 if counts[key] > 1 else 0.0
        merged.append(
            replace(
                finding,
                confidence=min(0.99, finding.confidence + bonus),
                span=first[key],
                mentions=counts[key],
                corroborated=corroborated,
            )
        )
    return merged
