"""Answer: the decisive error, who can fix it in this situation and why, what to do.

`Engine` runs the pipeline for every way in: read -> triage -> recognize -> decide -> answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.engine.decide import Conversation, Decider, Decision
from bot.engine.knowledge import PROTOCOLS, Entry, KnowledgeBase
from bot.engine.model import DecisionModel, FeatureReader, load_model
from bot.engine.recognize import Cues, Finding, Recognizer
from bot.engine.recognize.cues import read_cues
from bot.engine.source import Source, read_message
from bot.engine.triage import FailureContext, triage
from bot.engine.vocabulary import Vocabulary, load_vocabulary

# How many other readings an answer offers at most.
MAX_ALTERNATIVES = 3

VERDICT_LINES = {
    "info": "Nothing is wrong: this is an informational reply.",
    "you": "You can fix this yourself.",
    "admin": "Ask your server's administrator or hosting provider.",
    "isp": "Contact your ISP or network team: the problem is in the network between you.",
}


@dataclass(frozen=True)
class Answer:
    """What errdesk says about one message; renderers only present it."""

    query: str
    # How `query` (the text read) came from the text given; spans in JSON point into the latter.
    source: Source | None = None
    decisive: Entry | None = None
    confidence: float = 0.0
    # Who can fix it in this situation: the entry's verdict, or a context case's.
    verdict: str = ""
    # What decided a context case's verdict ("the server announced a private address ...").
    because: str | None = None
    reply: bool = False
    findings: tuple[Finding, ...] = ()
    alternatives: tuple[Entry, ...] = ()
    failure: FailureContext = field(default_factory=FailureContext)
    secrets: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    context_advice: tuple[str, ...] = ()
    related: tuple[Entry, ...] = ()
    decision: Decision = field(default_factory=Decision)

    @property
    def verdict_line(self) -> str:
        return VERDICT_LINES[self.verdict] if self.decisive and self.verdict else ""

    def _given_span(self, span: tuple[int, int]) -> list[int]:
        """A span of the text read, as offsets in the text given."""
        start, end = span
        source = self.source or Source(self.query)
        return [source.original(start), source.original(max(end - 1, start)) + (end > start)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of `errdesk explain --json` (see DESIGN.md)."""
        decisive = None
        if self.decisive is not None:
            decisive = {
                "protocol": self.decisive.protocol,
                "code": self.decisive.code,
                "title": self.decisive.title,
                "verdict": self.verdict,
                "because": self.because,
                "confidence": round(self.confidence, 3),
            }
        return {
            "reply": self.reply,
            "decisive": decisive,
            "findings": [
                {**finding.to_dict(), "span": self._given_span(finding.span)}
                for finding in self.findings
            ],
            "alternatives": [
                {"protocol": e.protocol, "code": e.code, "title": e.title, "verdict": e.verdict}
                for e in self.alternatives
            ],
            "context": self.failure.to_dict(),
            "secrets": list(self.secrets),
            "steps": list(self.steps),
            "related": [{"protocol": e.protocol, "code": e.code} for e in self.related],
            "reply_probability": round(self.decision.probability, 3),
        }

    def why(self) -> dict[str, Any]:
        """What tipped the reply decision, for `errdesk explain --why`."""
        return {
            "rule": self.decision.rule,
            "probability": round(self.decision.probability, 3),
            "features": [
                {"feature": c.feature, "value": round(c.value, 3), "push": round(c.push, 3)}
                for c in self.decision.why
            ],
        }


# What people call a protocol, besides its own name: "ssl 40", "win32 5", "winhttp 12175".
_PROTOCOL_ALIASES = {
    "https": "http",
    "ftps": "ftp",
    "socket": "winsock",
    "wsa": "winsock",
    "ssl": "tls",
    "libcurl": "curl",
    "win32": "windows",
    "hresult": "windows",
    "winhttp": "wininet",
}
_PROTOCOL_NAMES = "|".join(
    sorted((*PROTOCOLS, *_PROTOCOL_ALIASES), key=lambda name: (-len(name), name))
)
# "list ftp 5xx", "list tls 4x", "list ssh", "ftp 5xx": a family. "sftp 3" or "ftp 5" is a lookup.
_LIST_QUERY = re.compile(
    rf"^\s*(?P<list>list\s+)?(?P<protocol>{_PROTOCOL_NAMES})"
    r"(?:\s+(?P<family>\d{1,4})(?P<wildcard>x{1,4}|\*{1,2})?)?\s*$",
    re.IGNORECASE,
)
# A question that asks how to ask.
USAGE_WORDS = frozenset({"", "help", "?", "-h", "--help", "usage"})


@dataclass(frozen=True)
class Question:
    """What an explicit question (a slash command, a mention, the console) asked for."""

    kind: str  # "usage", "family", "answer" or "nothing"
    answer: Answer | None = None
    entries: tuple[Entry, ...] = ()


# "tls 48", "curl error 28", "ssh disconnect 14", "hresult 0x80090325": one code, looked up.
_DIRECT_QUERY = re.compile(
    rf"^\s*(?P<protocol>{_PROTOCOL_NAMES})\s*"
    r"(?:(?:error|exit|alert|disconnect|reason|status)\s*)?(?:code\s*)?[:#]?\s*"
    r"(?P<code>-?\d{1,5}|0x[0-9a-f]{8})\s*$",
    re.IGNORECASE,
)


class Engine:
    """The one entry point every way in uses: Slack listeners, the console and the CLI."""

    def __init__(
        self,
        kb: KnowledgeBase,
        vocabulary: Vocabulary | None = None,
        model: DecisionModel | None = None,
    ) -> None:
        self.kb = kb
        self.vocabulary = vocabulary if vocabulary is not None else load_vocabulary()
        self.model = model if model is not None else load_model()
        self.recognizer = Recognizer(kb, self.vocabulary)
        self.features = FeatureReader(self.vocabulary)
        self.decider = Decider(self.model, self.features.for_model(self.model))

    def explain(self, text: str, conversation: Conversation | None = None) -> Answer:
        """Explain a message someone posted; `reply` says whether to answer unasked."""
        source, cues, findings = self.observe(text, asked=False)
        return self._answer(source, cues, findings, asked=False, conversation=conversation)

    def observe(self, text: str, asked: bool) -> tuple[Source, Cues, list[Finding]]:
        """read -> triage -> recognize: what the decision is made on (training reads it too)."""
        source = read_message(text)
        cues = read_cues(source.text, triage(source.text, self.vocabulary), self.vocabulary)
        return source, cues, self.recognizer.recognize(source.text, cues, asked)

    def lookup(self, query: str) -> Answer:
        """Explain an explicit question (a slash command): a bare code or name is enough."""
        source = read_message(query)
        text = source.text
        direct = _DIRECT_QUERY.match(text)
        if direct:
            entry = self.kb.get(_protocol_named(direct["protocol"]), _code_spelled(direct["code"]))
            if entry is not None:
                finding = Finding(entry, 1.0, (0, len(text)), "lookup", text.strip(), (entry,))
                return self._answer(
                    source,
                    read_cues(text, triage(text, self.vocabulary), self.vocabulary),
                    [finding],
                    asked=True,
                )
        source, cues, findings = self.observe(query, asked=True)
        return self._answer(source, cues, findings or self.recognizer.search(text), asked=True)

    def ask(self, text: str, *, loose: bool = True) -> Question:
        """The one reading of an explicit question, shared by every way in: "help" asks how
        to ask; "list ftp 5xx" (or "ftp 5xx") a family; anything else is read as a message
        (a pasted error or log), then, when `loose`, looked up ("sftp 3", "connection reset").
        A mention in a thread asks strictly first, so that "@errdesk what is this?" explains
        the thread rather than the closest wording to "what is this"."""
        words = text.strip()
        if words.lower() in USAGE_WORDS:
            return Question("usage")
        family = self.family(words)
        if family is not None:
            return Question("family", entries=tuple(family))
        answer = self.explain(words)
        if answer.decisive is None and loose:
            answer = self.lookup(words)
        if answer.decisive is None:
            return Question("nothing", answer=answer)
        return Question("answer", answer=answer)

    def family(self, query: str) -> list[Entry] | None:
        """Entries for 'list ftp 5xx'-style queries; None when the query is not one."""
        match = _LIST_QUERY.match(query)
        if match is None or not (match["list"] or match["wildcard"]):
            return None
        family = match["family"] or ""
        wildcard = match["wildcard"] or ""
        # "tls 4x" is 40 to 49, "ftp 5xx" 500 to 599; "ftp 5*" and "list ssh 1" any length.
        length = len(family) + len(wildcard) if wildcard.lower().startswith("x") else None
        return [
            entry
            for entry in self.kb.for_protocol(_protocol_named(match["protocol"]))
            if entry.code.lstrip("-").startswith(family)
            and (length is None or len(entry.code.lstrip("-")) == length)
        ]

    def _answer(
        self,
        source: Source,
        cues: Cues,
        findings: list[Finding],
        asked: bool,
        conversation: Conversation | None = None,
    ) -> Answer:
        text = source.text
        secrets = source.secrets
        decision = self.decider.decide(findings, text, cues, asked, conversation)
        decisive = decision.decisive
        if decisive is None:
            return Answer(query=text, source=source, findings=tuple(findings), secrets=secrets)
        entry = decisive.entry
        cases = entry.cases_for(decisive.failure.cues(), text)
        deciding = next((case for case in cases if case.verdict), None)
        own_steps = _unique(step for case in cases for step in case.own_steps)
        return Answer(
            query=text,
            source=source,
            decisive=entry,
            confidence=decisive.confidence,
            verdict=deciding.verdict if deciding and deciding.verdict else entry.verdict,
            because=deciding.because if deciding else None,
            reply=decision.reply,
            findings=tuple(findings),
            alternatives=_alternatives(decisive, findings),
            failure=decisive.failure,
            secrets=secrets,
            steps=_unique((*own_steps, *entry.steps)),
            context_advice=own_steps,
            related=tuple(self.kb.related_entries(entry)),
            decision=decision,
        )


def _protocol_named(word: str) -> str:
    word = word.lower()
    return _PROTOCOL_ALIASES.get(word, word)


def _code_spelled(code: str) -> str:
    """A code as the knowledge spells it: HRESULTs as 0x and upper-case hex."""
    return f"0x{code[2:].upper()}" if code.lower().startswith("0x") else code


def _unique(steps: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(steps))


def _alternatives(decisive: Finding, findings: list[Finding]) -> tuple[Entry, ...]:
    """Other readings: the same code in other protocols, then other errors in the text."""
    seen = {decisive.entry.key}
    others: list[Entry] = []
    for entry in decisive.readings:
        if entry.key not in seen:
            seen.add(entry.key)
            others.append(entry)
    for finding in sorted(findings, key=lambda f: -f.confidence):
        if finding.entry.key not in seen and finding.entry.verdict != "info":
            seen.add(finding.entry.key)
            others.append(finding.entry)
    others.sort(key=lambda e: e.code != decisive.entry.code)
    return tuple(others[:MAX_ALTERNATIVES])


__all__ = ["PROTOCOLS", "VERDICT_LINES", "Answer", "Engine"]
