"""Known wordings (what servers and clients print for an error), fuzzy-matched line by line.

Each wording is posted in an index under its rarest words, so a line is compared only with the
few wordings that share enough of them: the cost grows with what a line holds, not with how
many wordings the knowledge has."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz import fuzz, process

from bot.engine.knowledge import Entry, KnowledgeBase
from bot.engine.recognize.cues import Cues, count_cues
from bot.engine.recognize.finding import STOPWORDS, Finding, cues_settle, normalize
from bot.engine.vocabulary import Vocabulary

# At most this many distinct lines are searched for phrases (the last ones, plus error-ish ones).
MAX_PHRASE_LINES = 3_000
PHRASE_WINDOW = 320
FUZZY_CUTOFF = 86.0
ASKED_FUZZY_CUTOFF = 80.0
# Wordings shorter than this must appear exactly; up to three words, only a typo is forgiven.
SHORT_PHRASE_CHARS = 12
SHORT_FUZZY_CUTOFF = 92.0
# A match scoring this much is the wording itself, as it is.
EXACT_SCORE = 100.0
# A near wording found mostly (this share of it) where a wording was found as it is misreads it.
MISREAD_SHARE = 0.8
# A fuzzy match with one of its anchor words absent from the line must score this much.
MISSING_WORD_CUTOFF = 93.0
# A line holding every word of a wording, in any order and with other words between ("Unsupported
# operation in ..." for "Operation unsupported"), counts while at most this many times as long.
WHOLE_WORDS_REACH = 2.5

_ERRORISH_LINE = re.compile(
    r"(?im)^.*(?:error|fail|denied|refused|reset|timed? ?out|unable|cannot|can't|could ?n[o']t|"
    r"not found|no such|abort|closed|exceed|invalid|forbidden|unauthori|incorrect|full|"
    r"quota|lost|broken|unreachable|unknown|exception|warn).*$"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class _Phrase:
    norm: str
    entries: tuple[Entry, ...]
    exact: bool
    # Entries for which this wording is only their title, never seen printed alone ("Connection
    # timed out" as HTTP 522's reason phrase): without the number it is weak evidence.
    weak: frozenset[tuple[str, str]] = frozenset()
    # Whether it says something failed ("can't", "denied"): then only a line saying so matches.
    negative: bool = False

    @property
    def only_weak(self) -> bool:
        return all(entry.key in self.weak for entry in self.entries)

    @cached_property
    def floor(self) -> float:
        """Short wordings forgive a typo, not a different word."""
        return SHORT_FUZZY_CUTOFF if self.norm.count(" ") < 3 else 0.0

    @cached_property
    def numbers(self) -> frozenset[str]:
        """Numbers in a wording must match exactly: "error code 520" is not "error code 3"."""
        return frozenset(token for token in self.norm.split() if token.isdigit())


class PhraseFinder:
    """Built once per knowledge base; `find` is then cheap per message."""

    def __init__(self, kb: KnowledgeBase, vocabulary: Vocabulary) -> None:
        self.kb = kb
        self.vocabulary = vocabulary
        # By their first letters, as the phrase index keys words: a typo ("incorect") keeps them.
        self._failure_words = frozenset(
            _anchor_key(word) for word in vocabulary.words("errors.words.failure")
        )
        phrase_entries: dict[str, list[Entry]] = defaultdict(list)
        from_phrases: set[tuple[str, tuple[str, str]]] = set()
        for entry in kb:
            for name in entry.names:
                if " " in name:
                    phrase_entries[normalize(name)].append(entry)
            for phrase in (*entry.phrases, entry.title):
                for norm in _variants(phrase):
                    if entry not in phrase_entries[norm]:
                        phrase_entries[norm].append(entry)
            from_phrases.update((normalize(phrase), entry.key) for phrase in entry.phrases)
        self._phrases: list[_Phrase] = []
        self._cjk_phrases: list[_Phrase] = []
        for norm, entries in phrase_entries.items():
            tokens = norm.split()
            # A title no software was seen printing ("Access denied", "Internal error"): alone,
            # weak evidence of that code.
            weak = frozenset(e.key for e in entries if (norm, e.key) not in from_phrases)
            if _CJK.search(norm):
                self._cjk_phrases.append(_Phrase(norm, tuple(entries), True, weak))
                continue
            if len(tokens) == 1:
                continue  # single words are names: matched only next to an error label
            exact = len(norm) < SHORT_PHRASE_CHARS
            negative = not self._failure_words.isdisjoint(map(_anchor_key, tokens))
            self._phrases.append(_Phrase(norm, tuple(entries), exact, weak, negative))
        self._postings, self._anchors, self._anchors_needed = self._build_anchor_index()
        # The same index without the wordings that say something failed: a line that says
        # nothing failed is never compared with them.
        self._plain_postings = {
            key: plain
            for key, positions in self._postings.items()
            if (plain := [p for p in positions if not self._phrases[p].negative])
        }
        # (phrase, protocol) -> twin entry: phrases and protocols are few, so this stays small.
        self._twin_cache: dict[tuple[str, str], Entry | None] = {}
        self._own_cue_cache: dict[str, dict[str, float]] = {}

    def _build_anchor_index(
        self,
    ) -> tuple[dict[str, list[int]], list[frozenset[str]], list[int]]:
        """Each phrase has up to three anchors, its rarest words (by 5-letter prefix, to survive
        typos), and is only compared with a line that holds enough of them: all for an exact
        wording, all but one for a fuzzy one. It is posted under as few anchors as can still
        find it (the rarest one; the two rarest when one may be missing), so a common word in
        a line does not wake up hundreds of phrases. A wording with a number is posted under
        its number instead: a line holds it only where it holds the number ("error code 520"
        is not woken by every line saying "error")."""
        frequency: dict[str, int] = defaultdict(int)
        for phrase in self._phrases:
            for key in _anchor_keys(phrase.norm):
                frequency[key] += 1
        postings: dict[str, list[int]] = defaultdict(list)
        anchor_sets: list[frozenset[str]] = []
        needed = []
        for position, phrase in enumerate(self._phrases):
            keys = sorted(_anchor_keys(phrase.norm), key=lambda k: (frequency[k], -len(k)))
            anchors = keys[:3] or [_anchor_key(phrase.norm.split()[0])]
            required = len(anchors) if phrase.exact else max(1, len(anchors) - 1)
            posted = (
                [_anchor_key(min(phrase.numbers))]
                if phrase.numbers
                else anchors[: len(anchors) - required + 1]
            )
            for key in posted:
                postings[key].append(position)
            anchor_sets.append(frozenset(anchors))
            needed.append(required)
        return dict(postings), anchor_sets, needed

    def search(self, query: str, limit: int = 3) -> list[Finding]:
        """Closest entries to a short free-text question, for lookups nothing else matched."""
        norm = normalize(query)
        if len(norm) < 4:
            return []
        scored: dict[tuple[str, str], tuple[Entry, float, float]] = {}
        for entry in self.kb:
            for wording in (entry.title, *entry.phrases, *entry.names):
                candidate = normalize(wording)
                # One word must be a whole wording ("Forbidden"), not any wording holding it:
                # "status" or "list" would otherwise find whatever mentions them.
                scorer = fuzz.token_set_ratio if " " in norm else fuzz.ratio
                score = scorer(norm, candidate, score_cutoff=85)
                closeness = fuzz.ratio(norm, candidate)  # breaks ties: the nearest wording
                if score and (score, closeness) > scored.get(entry.key, (entry, 0.0, 0.0))[1:]:
                    scored[entry.key] = (entry, score, closeness)
        ranked = sorted(scored.values(), key=lambda item: (-item[1], -item[2]))
        if not ranked:
            return []
        # One answer, the closest wording's; the next closest are its other readings, not
        # separate errors for the decision to weigh against it.
        best, score, _ = ranked[0]
        readings = tuple(entry for entry, _, _ in ranked[:limit])
        return [Finding(best, score / 100 * 0.8, (0, len(query)), "search", query, readings)]

    def find(self, text: str, cues: Cues, asked: bool) -> list[Finding]:
        cutoff = ASKED_FUZZY_CUTOFF if asked else FUZZY_CUTOFF
        findings = []
        for start, line in _phrase_lines(text):
            norm = normalize(line)
            if not norm:
                continue
            span = (start, start + len(line))
            hits = _without_misreadings(norm, self._phrase_hits(norm, cutoff))
            for phrase, score in hits:
                if any(
                    phrase.norm in other.norm and phrase is not other and other_score >= 97
                    for other, other_score in hits
                ):
                    continue  # a longer wording found on the same line says it more precisely
                words = len(phrase.norm.split())
                confidence = 0.55 + 0.05 * min(words, 7) - (100 - score) / 100
                if phrase.only_weak:
                    confidence = min(confidence, 0.5)
                findings.append(self._phrase_finding(phrase, confidence, span, cues))
        return findings

    def _phrase_hits(self, norm: str, cutoff: float) -> list[tuple[_Phrase, float]]:
        # A wording in a script without spaces is never in an ASCII line.
        hits = [] if norm.isascii() else [(p, 100.0) for p in self._cjk_phrases if p.norm in norm]
        tokens = set(norm.split())
        keys = {_anchor_key(token) for token in tokens}
        negative_line = not self._failure_words.isdisjoint(
            _anchor_key(token.strip("_")) for token in tokens
        )
        postings = self._postings if negative_line else self._plain_postings
        candidates = {p for key in keys for p in postings.get(key, ())}
        padded = f" {norm} "
        fuzzy: list[_Phrase] = []
        floors: list[float] = []
        anchors_of, needed_of, phrases = self._anchors, self._anchors_needed, self._phrases
        for position in sorted(candidates):
            anchors = anchors_of[position]
            needed = needed_of[position]
            phrase = phrases[position]
            # Woken by one of its anchors, a phrase that needs one has it: no set is made. One
            # woken by its number may have none.
            if (needed > 1 or phrase.numbers) and len(anchors & keys) < needed:
                continue
            if phrase.exact:
                if f" {phrase.norm} " in padded:
                    hits.append((phrase, 100.0))
            elif len(norm) >= len(phrase.norm) - 4 and phrase.numbers <= tokens:
                fuzzy.append(phrase)
                # A word missing altogether (not mistyped) must be made up for by the rest.
                complete = anchors <= keys
                floors.append(phrase.floor if complete else max(phrase.floor, MISSING_WORD_CUTOFF))
        if fuzzy:
            hits += self._fuzzy_hits(norm, fuzzy, floors, cutoff)
        return hits

    @staticmethod
    def _fuzzy_hits(
        norm: str, phrases: list[_Phrase], floors: list[float], cutoff: float
    ) -> list[tuple[_Phrase, float]]:
        """Score all candidates in one call; a short line holding every word of a wording, with
        a host name or path in between, counts as well."""
        choices = [phrase.norm for phrase in phrases]
        scored = {
            index: score
            for _, score, index in process.extract(
                norm, choices, scorer=fuzz.partial_ratio, score_cutoff=cutoff, limit=None
            )
        }
        found = {index for index, score in scored.items() if score >= floors[index]}
        hits = [(phrases[index], float(scored[index])) for index in sorted(found)]
        # Addresses, ports and counts do not make a line longer: their digits are no words.
        tokens = norm.split()
        wordy = len(" ".join(token for token in tokens if not token.isdigit()))
        # A wording that scored below its floor is tried again only if the line has all its words.
        rest = [
            index
            for index, phrase in enumerate(phrases)
            if index not in found
            and wordy <= WHOLE_WORDS_REACH * len(phrase.norm)
            and (index not in scored or set(phrase.norm.split()) <= set(tokens))
        ]
        if rest:
            whole = process.extract(
                norm,
                [choices[index] for index in rest],
                scorer=fuzz.token_set_ratio,
                score_cutoff=97,
                limit=None,
            )
            hits += [(phrases[rest[position]], float(score)) for _, score, position in whole]
        return hits

    def _phrase_finding(
        self, phrase: _Phrase, confidence: float, span: tuple[int, int], cues: Cues
    ) -> Finding:
        """Pick the reading the text is about; a wording borrowed from another protocol is
        carried over to the entry of the protocol the text is about, when one fits."""
        readings = sorted(
            phrase.entries,
            key=lambda e: (
                e.key in phrase.weak,
                -(cues.protocols[e.protocol] + self.vocabulary.prior(e.protocol)),
            ),
        )
        chosen = readings[0]
        protocols = cues.protocols
        strongest = protocols.strongest()
        # The wording's own words ("certificate" in a certificate error) are not what the text
        # is about; socket errors happen under every protocol: no other protocol argues them away.
        around = protocols[strongest] - self._own_cues(phrase.norm).get(strongest, 0.0)
        if chosen.protocol != "winsock" and protocols[chosen.protocol] == 0 and around >= 2:
            twin = self._twin(phrase.norm, strongest)
            if twin is not None:
                chosen, readings = twin, [twin, *readings]
            else:
                confidence *= 0.7
        settled = cues_settle(chosen, readings, protocols)
        return Finding(
            chosen,
            confidence,
            span,
            "phrase",
            phrase.norm,
            tuple(readings),
            reading_settled=settled,
        )

    def _own_cues(self, norm: str) -> dict[str, float]:
        """The protocol cues a wording holds itself, counted once per wording."""
        counted = self._own_cue_cache.get(norm)
        if counted is None:
            counted = self._own_cue_cache[norm] = count_cues(norm, self.vocabulary)
        return counted

    def _twin(self, norm: str, protocol: str) -> Entry | None:
        """Computed once per (phrase, protocol): it depends on nothing else."""
        key = (norm, protocol)
        if key not in self._twin_cache:
            self._twin_cache[key] = self._find_twin(norm, protocol)
        return self._twin_cache[key]

    def _find_twin(self, norm: str, protocol: str) -> Entry | None:
        best: tuple[Entry | None, float] = (None, 0.0)
        for entry in self.kb.for_protocol(protocol):
            if not entry.is_failure:
                continue
            for wording in (entry.title, *entry.phrases, *entry.names):
                score = fuzz.token_set_ratio(norm, normalize(wording), score_cutoff=90)
                if score > best[1]:
                    best = (entry, score)
        return best[0]


def _without_misreadings(
    norm: str, hits: list[tuple[_Phrase, float]]
) -> list[tuple[_Phrase, float]]:
    """Another entry's near wording, no longer than a wording found as it is and on its words,
    misreads them: "no matching C->S compression" is not "no matching C->S mac" misspelt, nor
    "sslv3 alert bad certificate" "sslv3 alert no certificate". A longer one may say more."""
    exact = [(phrase, score) for phrase, score in hits if score >= EXACT_SCORE]
    if not exact or len(exact) == len(hits):
        return hits
    covered = [(phrase, _stretch(phrase.norm, norm)) for phrase, _ in exact]
    kept = []
    for phrase, score in hits:
        if score < EXACT_SCORE:
            start, end = _stretch(phrase.norm, norm)
            if any(
                len(phrase.norm) <= len(other.norm)
                and min(end, other_end) - max(start, other_start) >= MISREAD_SHARE * (end - start)
                and not {e.key for e in phrase.entries} & {e.key for e in other.entries}
                for other, (other_start, other_end) in covered
            ):
                continue
        kept.append((phrase, score))
    return kept


def _stretch(wording: str, norm: str) -> tuple[int, int]:
    """Where in the line a wording was found."""
    at = norm.find(wording)
    if at >= 0:
        return at, at + len(wording)
    alignment = fuzz.partial_ratio_alignment(wording, norm)
    if alignment is None:
        return 0, len(norm)
    return alignment.dest_start, alignment.dest_end


def _variants(phrase: str) -> list[str]:
    """A wording, and its head before a parenthesis when that part alone is telling enough."""
    norm = normalize(phrase)
    head = normalize(phrase.split("(", 1)[0])
    if head != norm and len(head.split()) >= 4:
        return [norm, head]
    return [norm] if norm else []


def _anchor_keys(norm: str) -> set[str]:
    """Words that lead to a phrase: not stop words, and not numbers (those must match exactly)."""
    return {_anchor_key(t) for t in norm.split() if t not in STOPWORDS and not t.isdigit()}


def _anchor_key(token: str) -> str:
    return token[:5]


def _phrase_lines(text: str) -> list[tuple[int, str]]:
    """Distinct lines (cut into windows), bounded: for big texts the last and error-ish ones."""
    lines: dict[str, int] = {}
    offset = 0
    for line in text.split("\n"):
        if line.strip() and line not in lines:
            lines[line] = offset
        offset += len(line) + 1
    if len(lines) > MAX_PHRASE_LINES:
        errorish = {m.group(0) for m in _ERRORISH_LINE.finditer(text)}
        keep = [item for item in lines.items() if item[0] in errorish]
        keep = keep[-MAX_PHRASE_LINES // 2 :] + list(lines.items())[-MAX_PHRASE_LINES // 2 :]
        lines = dict(keep)
    windows = []
    for line, start in lines.items():
        if len(line) <= PHRASE_WINDOW:
            windows.append((start, line))
            continue
        step = PHRASE_WINDOW - 80
        for cut in range(0, min(len(line), 20 * step), step):
            windows.append((start + cut, line[cut : cut + PHRASE_WINDOW]))
    return windows
