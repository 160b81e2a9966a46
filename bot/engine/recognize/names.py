"""Symbolic names (WSAECONNRESET, SSH_FX_NO_SUCH_FILE, ECONNREFUSED, CURLE_*) matched as whole
words, and one-word titles ("Forbidden", "Failure") where an error label stands before them."""

from __future__ import annotations

import re

from bot.engine.knowledge import Entry, KnowledgeBase
from bot.engine.recognize.cues import Cues
from bot.engine.recognize.finding import Finding, normalize
from bot.engine.substrings import Substrings

_I = re.I | re.A
_SYMBOL = re.compile(r"[A-Za-z][\w.]*\w")


class NameFinder:
    """Built once per knowledge base: the names of every entry, and its one-word titles."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._symbols: dict[str, Entry] = {}
        self._weak_symbols: set[str] = set()
        # Python's HTTPStatus names that are plain words (FORBIDDEN, CONFLICT) count only in
        # upper case: "forbidden" in a sentence is a word. ECONNRESET typed in lower case counts.
        self._upper_only: set[str] = set()
        self._words: dict[str, Entry] = {}
        for entry in kb:
            for name in entry.names:
                if " " in name:
                    continue  # names of several words are wordings: see phrases
                if "." in name or "_" in name or not (name.islower() or name.istitle()):
                    self._symbols.setdefault(name.casefold(), entry)
                    if entry.protocol == "http" and name.isalpha() and name.isupper():
                        self._upper_only.add(name.casefold())
                    if _ambiguous_errno_name(name, entry):
                        self._weak_symbols.add(name.casefold())
                else:
                    self._words.setdefault(name.casefold(), entry)
            if " " not in normalize(entry.title):
                self._words.setdefault(normalize(entry.title), entry)
        self._single_titles = self._build_single_title_pattern()
        self._any_word = Substrings.of(self._words)

    def _build_single_title_pattern(self) -> re.Pattern[str] | None:
        """One-word titles ("Failure", "Forbidden") count only right after an error label."""
        words = sorted(self._words, key=len, reverse=True)
        if not words:
            return None
        alternation = "|".join(re.escape(word) for word in words)
        return re.compile(
            r"(?:error|exception|err|status|fatal|mkdir|rmdir|rename|stat|lstat|open|opendir|"
            r"readdir|realpath|remove|unlink|put|get|fastput|fastget|upload|download|setstat)"
            r"\w*\W{1,4}[\"'`(]?(?P<word>" + alternation + r")\b",
            _I,
        )

    def find(self, text: str, cues: Cues, asked: bool) -> list[Finding]:
        findings = []
        known = {}
        for word in set(_SYMBOL.findall(text)):  # distinct words first: most texts have none
            folded = word.casefold()
            entry = self._symbols.get(folded) or self._symbols.get(folded.rpartition(".")[2])
            if entry is not None and (folded not in self._upper_only or word.isupper()):
                known[word] = entry
        if known:
            for match in _SYMBOL.finditer(text):
                word = match.group(0)
                entry = known.get(word)
                if entry is not None:
                    folded = word.casefold()
                    weak = folded if folded in self._symbols else folded.rpartition(".")[2]
                    if weak in self._weak_symbols and cues.protocols["sftp"] > 0:
                        continue  # EACCES in an SFTP client: SFTP's denial, not a socket's
                    confidence = 0.6 if weak in self._weak_symbols else 0.9
                    findings.append(
                        Finding(entry, confidence, match.span(), "name", word, (entry,))
                    )
        lowered = text.lower()
        if self._single_titles is not None and self._any_word.any_in(lowered):
            for match in self._single_titles.finditer(text):
                entry = self._words[match["word"].casefold()]
                findings.append(
                    Finding(entry, 0.7, match.span("word"), "name", match["word"], (entry,))
                )
        return findings


def _ambiguous_errno_name(name: str, entry: Entry) -> bool:
    """EACCES, EINVAL, EBADF...: POSIX names of errors that file systems raise as often as
    sockets (Linux numbers them below 88), so alone they are weak evidence of a socket error."""
    linux = entry.errno.get("linux")
    return name.isupper() and name.startswith("E") and linux is not None and 0 <= linux < 88
