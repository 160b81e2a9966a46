"""The two naive peers errdesk is measured against, built on the same knowledge base.

Both answer with `bot.engine.Answer`, so `bot.evaluation` scores them with exactly the
definitions it uses for errdesk (decisive accuracy, false replies on negatives...).

- FirstCodePeer: what most status-code chat bots do. The first three-digit number that is a
  known code; the FTP reading when there is one, else HTTP; a reply whenever one is found.
- FuzzyTitlePeer: rapidfuzz `process.extractOne` of the whole message against every standard
  text (the entry titles) with `fuzz.partial_ratio` and a score cutoff; a reply when found.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process, utils

from bot.engine import Answer, Entry, KnowledgeBase

# A number of exactly three digits: "550", "(425)", "HTTP 502:" but not "2550" or "1.550".
CODE_DIGITS = 3
_THREE_DIGITS = re.compile(r"(?<![\d.])\d{3}(?![\d.]\d|\d)")
# The cutoff where the fuzzy peer does best on the labelled corpus (75 to 100 tried): decisive
# accuracy minus false-reply rate is highest here; lower cutoffs reply to most chit-chat.
FUZZY_CUTOFF = 88.0


class FirstCodePeer:
    """The first known three-digit code wins; FTP before HTTP; always replies when found."""

    name = "first-code peer"

    def __init__(self, kb: KnowledgeBase) -> None:
        self._codes: dict[str, Entry] = {}
        for protocol in ("http", "ftp"):  # FTP written last, so it wins where both exist
            for entry in kb.for_protocol(protocol):
                if len(entry.code) == CODE_DIGITS:
                    self._codes[entry.code] = entry

    def explain(self, text: str, conversation: object = None) -> Answer:
        """`conversation` is the engine's parameter; a peer reads the text alone."""
        for match in _THREE_DIGITS.finditer(text):
            entry = self._codes.get(match.group(0))
            if entry is not None:
                return Answer(query=text, decisive=entry, confidence=1.0, reply=True)
        return Answer(query=text)


class FuzzyTitlePeer:
    """The closest standard text anywhere in the message, by partial_ratio above a cutoff."""

    name = "fuzzy peer"

    def __init__(self, kb: KnowledgeBase, cutoff: float = FUZZY_CUTOFF) -> None:
        self._entries = list(kb)
        # Built once, processed once: the fair way to use extractOne on a fixed choice list.
        self._titles = [utils.default_process(entry.title) for entry in self._entries]
        self.cutoff = cutoff

    def explain(self, text: str, conversation: object = None) -> Answer:
        """`conversation` is the engine's parameter; a peer reads the text alone."""
        best = process.extractOne(
            utils.default_process(text),
            self._titles,
            scorer=fuzz.partial_ratio,
            processor=None,
            score_cutoff=self.cutoff,
        )
        if best is None:
            return Answer(query=text)
        entry = self._entries[best[2]]
        return Answer(query=text, decisive=entry, confidence=best[1] / 100, reply=True)
