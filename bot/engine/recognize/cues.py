"""What is known of a text before any error is recognized in it: which protocols it speaks of
(cue words), and what log triage saw around each offset. Every recognizer reads these cues;
none computes them again."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from bot.engine.triage import FailureContext, Triage
from bot.engine.vocabulary import Vocabulary

_WORD = re.compile(r"[A-Za-z0-9_]+")
# A protocol's own name counts as this many cue words.
NAMED_WEIGHT = 2


class ProtocolCues(Mapping[str, float]):
    """How often each protocol's cues occur, scanned only once a reading has to be chosen."""

    def __init__(self, text: str, vocabulary: Vocabulary) -> None:
        self._text = text
        self._vocabulary = vocabulary
        self._counts: dict[str, float] | None = None

    def _loaded(self) -> dict[str, float]:
        if self._counts is None:
            self._counts = count_cues(self._text, self._vocabulary)
        return self._counts

    def __getitem__(self, protocol: str) -> float:
        return self._loaded().get(protocol, 0.0)

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def strongest(self) -> str:
        counts = self._loaded()
        return max(counts, key=lambda protocol: counts[protocol])


@dataclass
class Cues:
    """The cues of one text: its protocol cues and its triage, read by every recognizer."""

    protocols: ProtocolCues
    triage: Triage = field(default_factory=Triage)

    def context_at(self, offset: int) -> FailureContext:
        return self.triage.at(offset)


def read_cues(text: str, triage: Triage, vocabulary: Vocabulary) -> Cues:
    return Cues(ProtocolCues(text, vocabulary), triage)


def count_cues(text: str, vocabulary: Vocabulary) -> dict[str, float]:
    """How many cue words of each protocol a text holds, its own name counting double."""
    counts = dict.fromkeys(vocabulary.cue_protocols, 0.0)
    text = text[: vocabulary.cue_scan_chars]
    by_word = vocabulary.cue_by_word
    methods = vocabulary.cue_methods
    prefix_starts = vocabulary.cue_prefix_starts
    for word in _WORD.findall(text):
        lowered = word.lower()
        protocols = by_word.get(lowered, ())
        if not protocols:
            if word in methods:
                protocols = (methods[word],)
            elif lowered[:3] in prefix_starts:
                protocols = tuple(
                    p for start, p in vocabulary.cue_prefixes if lowered.startswith(start)
                )[:1]
        for protocol in protocols:
            # The protocol named outright ("FTP permission denied") says the most.
            counts[protocol] += NAMED_WEIGHT if lowered == protocol else 1
    lowered_text = text.lower()
    for cue, protocol in vocabulary.cue_strings:
        counts[protocol] += lowered_text.count(cue)
    return counts
