"""Recognize: the text read and its cues -> findings. One finder per kind of evidence, each
with the same `find(text, cues, asked) -> list[Finding]`; this module runs them and merges what
they found into one finding per entry, each carrying the situation triage saw around it."""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from bot.engine.knowledge import KnowledgeBase
from bot.engine.recognize.codes import CodeFinder
from bot.engine.recognize.cues import Cues
from bot.engine.recognize.finding import Finding, line_start, merge, normalize
from bot.engine.recognize.names import NameFinder
from bot.engine.recognize.phrases import PhraseFinder
from bot.engine.vocabulary import Vocabulary


class Finder(Protocol):
    def find(self, text: str, cues: Cues, asked: bool) -> list[Finding]: ...


class Recognizer:
    """Built once per knowledge base; `recognize` is then cheap per message."""

    def __init__(self, kb: KnowledgeBase, vocabulary: Vocabulary) -> None:
        self.kb = kb
        self.phrases = PhraseFinder(kb, vocabulary)
        self.finders: tuple[Finder, ...] = (
            CodeFinder(kb, vocabulary),
            NameFinder(kb),
            self.phrases,
        )

    def recognize(self, text: str, cues: Cues, asked: bool = False) -> list[Finding]:
        """Findings in the text read (spans index it), in order, each with its situation."""
        found: list[Finding] = []
        for finder in self.finders:
            found += finder.find(text, cues, asked)
        found = _drop_phrases_on_explained_lines(text, found)
        found = _drop_names_a_wording_spells_out(text, found)
        found = _read_wordings_as_their_codes(found)
        return sorted(
            (replace(f, failure=cues.context_at(f.span[0])) for f in merge(found)),
            key=lambda f: f.span[0],
        )

    def search(self, query: str, limit: int = 3) -> list[Finding]:
        """Closest entries to a short free-text question, for lookups nothing else matched."""
        return self.phrases.search(query, limit)


def _drop_phrases_on_explained_lines(text: str, findings: list[Finding]) -> list[Finding]:
    """A phrase on the same line as a code is that code's reply text, not a second error."""
    code_lines = {
        line_start(text, f.span[0])
        for f in findings
        if f.is_number and f.confidence >= 0.7 and f.entry.is_failure
    }
    return [
        f for f in findings if f.kind != "phrase" or line_start(text, f.span[0]) not in code_lines
    ]


def _drop_names_a_wording_spells_out(text: str, findings: list[Finding]) -> list[Finding]:
    """A name whose words a longer wording on its line spells out is that wording's label:
    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired" is
    the expired certificate, not any failed verification."""
    wordings = [
        (line_start(text, f.span[0]), f" {f.matched} ", f.entry.key)
        for f in findings
        if f.kind == "phrase"
    ]
    if not wordings:
        return findings
    return [
        f
        for f in findings
        if f.kind != "name"
        or "_" not in f.matched
        or not any(
            start == line_start(text, f.span[0])
            and key != f.entry.key
            and f" {_words(f.matched)} " in wording
            for start, wording, key in wordings
        )
    ]


def _words(name: str) -> str:
    return normalize(name.replace("_", " "))


def _read_wordings_as_their_codes(findings: list[Finding]) -> list[Finding]:
    """A wording of several entries, in a text that also names one of them by its code or
    name ("curl: (35)" after OpenSSL's SSL_connect wording), is that entry's wording: the code
    settles the reading the cues alone would have guessed."""
    named = {f.entry.key for f in findings if f.kind != "phrase"}
    return [_reading_named(f, named) if f.kind == "phrase" else f for f in findings]


def _reading_named(finding: Finding, named: set[tuple[str, str]]) -> Finding:
    if finding.entry.key in named:
        return finding
    agreeing = next((r for r in finding.readings if r.key in named), None)
    if agreeing is None:
        return finding
    others = tuple(r for r in finding.readings if r is not agreeing)
    return replace(finding, entry=agreeing, readings=(agreeing, *others), reading_settled=True)


__all__ = ["Cues", "Finding", "Recognizer", "normalize"]
