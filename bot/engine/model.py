"""The decision model: readable features of a message and of each finding in it, and two small
linear models over them, fitted to labelled messages (`errdesk model train`) and shipped as data.

- `rank` scores each finding of a message; the highest is the decisive one.
- `reply` scores the message with its decisive finding; at or above `threshold`, errdesk
  answers unasked.

Inference is plain Python: a weighted sum of standardized features and a logistic. Each
feature is a number a person can read ("the message asks a question", "the finding sits in a
quoted line"); what it weighs is in the model file, not in this code.
"""

from __future__ import annotations

import bisect
import copy
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple, TypeGuard

from bot.engine.knowledge import PROTOCOLS
from bot.engine.recognize import Cues, Finding, normalize
from bot.engine.recognize.finding import line_end, line_start
from bot.engine.substrings import Substrings
from bot.engine.vocabulary import GuardedPattern, PatternList, Vocabulary

MODEL_FORMAT = "errdesk-decision-model"
MODEL_VERSION = 1
SHIPPED_MODEL = Path(__file__).with_name("decision_model.json")

# The prefix of a discourse word's feature: "word:should" is 1 when the message holds "should".
WORD_FEATURE = "word:"
# How far into a message its opening reaches: a greeting, an @mention of someone.
_OPENING_CHARS = 40
_MENTION = GuardedPattern.compile(r"(?<![\w.])@[A-Za-z][\w-]{1,38}\b")
# Each match holds a full stop before a digit or the word "version": most texts hold a full
# stop, fewer one before a digit (`required_strings` cannot say it of a digit, any digit).
_VERSION = GuardedPattern(
    re.compile(r"\bv?\d+\.\d+(?:\.\d+)+\b|\bversion\s+\d", re.I),
    (*(f".{digit}" for digit in "0123456789"), "version"),
)
# An error label just before a finding: "error: Host key verification failed", "Exception: ...".
_ERROR_LABEL_BEFORE = re.compile(
    r"(?:\b(?:error|err|exception|fatal|failed|failure|warning)|\w(?:Exception|Error))\w*\s*"
    r"(?:\(\d+\))?\s*[:=]\s*[\"'`(\[]?\s*$",
    re.I,
)
# What a text before a finding ends with (but for spaces) when an error label precedes it: the
# label's colon or equals sign, or the quote or bracket after it.
_ERROR_LABEL_ENDS = frozenset(":=\"'`([")
# A yes-or-no question whose subject is the code: "Is ECONNRESET a retryable error?"
_QUESTION_ABOUT = re.compile(
    r"^\W*(?:is|are|can|could|should|does|do|will|would|shall|must)\s+(?:an?\s+|the\s+)?\S*$", re.I
)
# Modal verbs of design talk: "can X be retried", "should return 404". Each match holds one
# of the modal verbs, which guard the pattern (too many for `required_strings` to find them).
_MODALS = ("can", "could", "should", "would", "will", "shall", "must", "may", "might")
_MODAL = GuardedPattern(
    re.compile(
        rf"\b(?:{'|'.join(_MODALS)})\b[^.?!\n]{{0,30}}"
        r"\b(?:be|return|send|retry|treat|handle|map|use|show|throw)\b",
        re.I,
    ),
    _MODALS,
)
# A code as the subject of a sentence: "500 is returned if ...", "ECONNRESET means ...".
# Lower case only: a reply's own text goes on in capitals ("425 Can't open data connection").
_SUBJECT_AFTER = re.compile(
    r"[`'\"]?\s+(?:is|are|was|gets|means|indicates|should|would|will|can)\b(?!['\u2019])"
)
# The prefix of two features weighed together: "x:question*first_person".
INTERACTION_FEATURE = "x:"
# Protocols whose servers answer with a code and a text: "550 Permission denied".
REPLY_PROTOCOLS = frozenset({"ftp", "http"})
# Clients whose own codes wrap the error they met: "curl: (25) Failed FTP upload: 553" is curl's
# code for the server's 553, which the rest of its line quotes.
WRAPPER_PROTOCOLS = frozenset({"curl"})
# Replies that only say an earlier command failed ("503 RNFR required first").
CONSEQUENCES = frozenset({("ftp", "503")})
# Python names the original exception first: what follows this line is a consequence.
AFTERMATH_LINE = "During handling of the above exception"
# Two codes each defined ("10054 is ..., 10053 is ...") make a glossary.
GLOSSARY_CODES = 2
# A message with this many different failures is a list or a table, not one failure met.
MANY_FAILURES = 4
# Counts are capped: the fifth mention says little more than the fourth.
MAX_COUNT = 5

_FENCE = "```"
_FENCES = GuardedPattern.compile(re.escape(_FENCE))
_LOG_LINE = re.compile(
    r"^\s*(?:\[?\d{1,4}[-/.:]\d{1,2}[-/.:]\d{1,4}|\d{1,2}:\d{2}:\d{2}|"
    r"(?:Status|Response|Command|Error|Trace|Warning|Info|Debug|Fatal|Failure)\s*:|"
    r"\[(?:ERROR|WARN(?:ING)?|INFO|DEBUG|FATAL)\]|[<>]\s|\d{3}[ -]\S|"
    r"(?:ERROR|WARN|FATAL|E|W)\s*[:|]|at [\w.$]+\(|File \"|\w+(?:Error|Exception)\b[:(]|"
    r"curl: \(|ssh: |sftp> |ftp> |\$ |PS [A-Z]:\\)",
    re.I,
)
# A question: "?" before a space or the end, and the full-width "？" of Chinese and Japanese,
# which the next word follows with no space.
_QUESTION = GuardedPattern.compile(r"\?(?:\s|$)|？")
_DIFF = GuardedPattern.compile(r"^(?:diff --git|@@ |\+\+\+ |--- a/)", re.M)
_STACK = GuardedPattern.compile(
    r"Traceback \(most recent call last\)|^\s+at [\w.$<>]+\(|Exception in thread", re.M
)
_LINK = GuardedPattern.compile(r"https?://", re.I)
_URL = GuardedPattern.compile(r"\bhttps?://\S+", re.I)
_CODE_SYNTAX = re.compile(
    r"^\s*(?:def |class |import |from \S+ import|function |const |let |var |public |private |"
    r"return |if \(|}\s*$|#include|raise |except |catch\s*\()|=>|\);\s*$",
    re.M,
)
# A word as the vocabulary's lists name them: "can't" and "i'm" whole.
WORD_TOKEN = re.compile(r"[\w']+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_COPULA_AFTER_CODE = GuardedPattern.compile(
    r"(?<![\w.])(?P<code>[1-6]\d\d|1[01]\d{3})\s+(?:is|es|est|ist|è|é|to|jest)\s", re.I | re.A
)
# A config value: a key whose value is a list of codes or names ("on_errno: [ECONNRESET, ...]").
_CONFIG_LIST = GuardedPattern.compile(r"^\s*[\"']?[\w.-]+[\"']?\s*[:=]\s*\[[^\]\n]*,", re.M)
# A commit or PR title's type or scope: "fix:", "feat(ftp):", "[zh-tw]:", "docs -".
_TITLE_PREFIX = GuardedPattern.compile(
    r"^\W*(?:\[[^\]\n]{1,30}\]|\w+(?:\([^)\n]{1,30}\))?!?)\s*:\s|^\W*\w+\s+-\s"
)
_INLINE_CODE = GuardedPattern.compile(r"`[^`\n]{1,80}`")
# What may stand before an error pasted as the message's first words: quotes, code and quote
# marks, a bracket, a bullet, a heading's hashes. "Connection reset by peer" and "> 530 Login
# incorrect" open with their error; "humanize ECONNREFUSED error" and "Fix: ..." with words.
_MARKS_BEFORE_A_PASTE = " \t\n\"'`[(*>#-"
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?P<word>[A-Za-z]+)", re.M)
_FIRST_WORD = re.compile(
    r"^[^\w\[]*(?:(?:\[[^\]\n]{1,30}\]|[\w./-]+(?:\([^)\n]{1,30}\))?)!?:\s*)?\W*(?P<word>[A-Za-z]+)"
)


class ModelError(ValueError):
    """A model file cannot be used: the message names the file and the field."""


@dataclass(frozen=True)
class Contribution:
    """How much one feature pushed a score, for `errdesk explain --why`."""

    feature: str
    value: float
    weight: float

    @property
    def push(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True)
class LinearModel:
    """A logistic regression over named features, standardized by the training means and
    scales so that weights compare with each other."""

    bias: float
    weights: Mapping[str, float]
    means: Mapping[str, float]
    scales: Mapping[str, float]

    def logit(self, features: Mapping[str, float]) -> float:
        """The weighted sum, over the features present only: the standardization folded into
        one coefficient a feature and one constant, as it is computed for every message. The
        loop runs over the message's few features, not over the model's many weights; a
        feature at 0 adds nothing, alone or in a pair, and one the model does not weigh is a
        single look-up."""
        constant, folded = self._folded
        total = constant
        for name, value in features.items():
            if not value:
                continue
            weighed = folded.get(name)
            if weighed is None:
                continue
            coefficient, pairs = weighed
            total += coefficient * value
            if pairs:
                paired = 0.0
                for right, weight in pairs:
                    paired += weight * features.get(right, 0.0)
                total += value * paired
        return total

    @cached_property
    def _folded(self) -> tuple[float, dict[str, tuple[float, tuple[tuple[str, float], ...]]]]:
        """The constant, and each weighed feature's coefficient with the features it is paired
        with ("x:left*right" is under "left") and their coefficients."""
        constant = self.bias
        coefficients: dict[str, float] = {}
        pairs: dict[str, list[tuple[str, float]]] = {}
        for name, weight in self.weights.items():
            coefficient = weight / self.scales.get(name, 1.0)
            constant -= coefficient * self.means.get(name, 0.0)
            if name.startswith(INTERACTION_FEATURE):
                left, _, right = name.removeprefix(INTERACTION_FEATURE).partition("*")
                pairs.setdefault(left, []).append((right, coefficient))
            else:
                coefficients[name] = coefficient
        folded = {
            name: (coefficients.get(name, 0.0), tuple(pairs.get(name, ())))
            for name in (*coefficients, *pairs)
        }
        return constant, folded

    @cached_property
    def weighed(self) -> frozenset[str]:
        """The features it weighs, alone or in a pair."""
        names: set[str] = set()
        for name in self.weights:
            left, _, right = name.removeprefix(INTERACTION_FEATURE).partition("*")
            names.update((left, right) if name.startswith(INTERACTION_FEATURE) else (name,))
        return frozenset(names)

    def probability(self, features: Mapping[str, float]) -> float:
        return _sigmoid(self.logit(features))

    def contributions(self, features: Mapping[str, float]) -> list[Contribution]:
        return [
            Contribution(
                name,
                (feature_value(features, name) - self.means.get(name, 0.0))
                / self.scales.get(name, 1.0),
                weight,
            )
            for name, weight in self.weights.items()
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "bias": self.bias,
            "weights": dict(self.weights),
            "means": dict(self.means),
            "scales": dict(self.scales),
        }


@dataclass(frozen=True)
class DecisionModel:
    rank: LinearModel
    reply: LinearModel
    threshold: float
    trained_on: Mapping[str, Any] = field(default_factory=dict)
    source: str = "shipped"

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "trained_on": dict(self.trained_on),
            "threshold": self.threshold,
            "rank": self.rank.to_dict(),
            "reply": self.reply.to_dict(),
        }


def feature_value(features: Mapping[str, float], name: str) -> float:
    """A feature's value; "x:question*first_person" is the product of the two (both hold)."""
    if name.startswith(INTERACTION_FEATURE):
        left, _, right = name.removeprefix(INTERACTION_FEATURE).partition("*")
        return features.get(left, 0.0) * features.get(right, 0.0)
    return features.get(name, 0.0)


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


# ---------------------------------------------------------------- features


class Shape(NamedTuple):
    """What a message is like, computed once per message: its form and its words (a named
    tuple: made for every message, at a tuple's cost)."""

    features: Mapping[str, float]
    fences: tuple[int, ...]
    aftermath: int
    # The message's words and its word lists' counts: a sentence that is the whole message
    # (most chat lines) has them already.
    words: Words
    counts: Mapping[str, int]
    # Whether each line that is not blank is a log line: a finding's line is one of them,
    # unless it reaches too far to be taken whole.
    log_lines: Mapping[str, bool]


@dataclass(frozen=True)
class WordLists:
    """Named word lists of the vocabulary, looked up in a message's words in one pass: each
    distinct word of the message is a dictionary look-up that says which lists hold it and
    which of their phrases begin with it, and only those phrases are counted (a substring count
    each), so a dozen lists of hundreds cost little more than the message has words."""

    names: tuple[str, ...]
    # Each word some item begins with: the lists (by position in `names`) that hold it as a
    # single word, and the phrases it begins, each with its list (sought only where the text
    # holds the word). One table: one look-up a word of the message.
    by_head: Mapping[str, tuple[tuple[int, ...], tuple[tuple[int, str], ...]]]
    # Items of scripts written without spaces, sought as they are when the text has such script.
    unspaced: tuple[tuple[int, str], ...]
    # Phrases that begin with no word: sought in every text.
    headless: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, lists: Mapping[str, Iterable[str]]) -> WordLists:
        by_word: dict[str, list[int]] = {}
        by_first: dict[str, list[tuple[int, str]]] = {}
        unspaced: list[tuple[int, str]] = []
        headless: list[tuple[int, str]] = []
        for index, items in enumerate(lists.values()):
            for item in sorted({item.lower() for item in items}):
                first = WORD_TOKEN.match(item)
                if _CJK.search(item):
                    unspaced.append((index, item))
                elif WORD_TOKEN.fullmatch(item):
                    by_word.setdefault(item, []).append(index)
                elif first:
                    by_first.setdefault(first.group(0), []).append((index, item))
                else:
                    headless.append((index, item))
        return cls(
            tuple(lists),
            {
                head: (tuple(by_word.get(head, ())), tuple(by_first.get(head, ())))
                for head in (*by_word, *by_first)
            },
            tuple(unspaced),
            tuple(headless),
        )

    def counts(self, words: Words) -> dict[str, int]:
        """How often each list's items occur in the words, by list name."""
        return self.read(words)[0]

    def read(self, words: Words, itemized: str | None = None) -> tuple[dict[str, int], list[str]]:
        """How often each list's items occur in the words, by list name, and the items of the
        list named `itemized` that they hold, in the order the text first says them: one pass
        for both."""
        totals = [0] * len(self.names)
        items: list[str] = []
        listed = self.names.index(itemized) if itemized is not None else -1
        lowered = words.lowered
        counts = words.counts
        by_head = self.by_head
        for word in counts:
            head = by_head.get(word)
            if head is None:
                continue
            holding, phrases = head
            if holding:
                occurrences = counts[word]
                for index in holding:
                    totals[index] += occurrences
                if listed in holding:
                    items.append(word)
            for index, phrase in phrases:
                found = lowered.count(phrase)
                totals[index] += found
                if found and index == listed:
                    items.append(phrase)
        for index, item in self._sought_as_they_are(words):
            found = lowered.count(item)
            totals[index] += found
            if found and index == listed:
                items.append(item)
        return dict(zip(self.names, totals, strict=True)), items

    def may_hold(self, lowered: str) -> bool:
        """False only when a text (`lowered` is its lower case) holds no item of the lists:
        each item a text holds is a substring of it, and one scan for them all costs less than
        reading its words."""
        return self.items.any_in(lowered)

    @cached_property
    def items(self) -> Substrings:
        """Every item of the lists, sought together."""
        words = (word for word, (holding, _) in self.by_head.items() if holding)
        phrases = (phrase for _, group in self.by_head.values() for _, phrase in group)
        sought = (item for _, item in (*self.unspaced, *self.headless))
        return Substrings.of((*words, *phrases, *sought))

    def _sought_as_they_are(self, words: Words) -> tuple[tuple[int, str], ...]:
        return self.unspaced + self.headless if words.unspaced else self.headless


class Words(NamedTuple):
    """A text's words, read once: lower case, counted (a named tuple, like Shape)."""

    lowered: str
    # Each distinct word, in the order the text first says it, with how often it says it.
    counts: Mapping[str, int]
    # Whether the text holds a script written without spaces: only then are its items sought.
    unspaced: bool

    @classmethod
    def of(cls, text: str) -> Words:
        lowered = text.lower()
        unspaced = not lowered.isascii() and _CJK.search(lowered) is not None
        tokens = WORD_TOKEN.findall(lowered)
        # Most chat lines say no word twice: each word once is counted without a Counter.
        once = dict.fromkeys(tokens, 1)
        return cls(lowered, once if len(once) == len(tokens) else Counter(tokens), unspaced)


# The word lists counted over the whole message, over the decisive finding's sentence (each a
# message list too: a sentence that is the whole message takes the message's counts), and over
# the message's opening.
_MESSAGE_LISTS = (
    "talk.report.first_person",
    "talk.report.meeting",
    "talk.report.help",
    "talk.report.advice",
    "talk.report.asks_back",
    "talk.report.bug_template",
    "talk.talk.pr_template",
    "talk.talk.hypothetical",
    "talk.talk.project",
    "talk.talk.resolved",
)
_SENTENCE_LISTS = ("talk.report.first_person", "talk.report.meeting", "talk.talk.hypothetical")
_GREETING = "talk.report.greeting"
# The words weighed one by one ("word:should"), looked up in the same pass as the lists.
_DISCOURSE = "words"
# Features that cost a scan of the whole message each: a reader for a model that does not weigh
# them leaves them at 0 (see FeatureReader.for_model).
ON_DEMAND_FEATURES = frozenset({"glossary", "diff"})


class FeatureReader:
    """The features, built once per vocabulary (its word lists become fast look-ups). It reads
    every feature, as training needs; `for_model` gives one that reads only what a model weighs."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        # The on-demand features left at 0: none, until a model says what it weighs.
        self._unread: frozenset[str] = frozenset()
        self._sentence_words = WordLists.of(
            {name: vocabulary.words(name) for name in _SENTENCE_LISTS}
        )
        self._greeting = WordLists.of({_GREETING: vocabulary.words(_GREETING)})
        self._change_verbs = frozenset(
            w.lower() for w in vocabulary.words("talk.talk.change_verbs")
        )
        self._meeting_verbs = frozenset(w.lower() for w in vocabulary.words("talk.report.meeting"))
        self.discourse_words = tuple(
            sorted(
                {
                    w.lower()
                    for name in ("talk.words.discourse", "talk.words.frequent")
                    for w in vocabulary.words(name)
                }
            )
        )
        self._words = WordLists.of(
            {
                **{name: vocabulary.words(name) for name in _MESSAGE_LISTS},
                _DISCOURSE: self.discourse_words,
            }
        )
        self._discussion = PatternList.of(vocabulary.words("talk.talk.discussion_patterns"))
        self._resolved = PatternList.of(vocabulary.words("talk.talk.resolved_patterns"))
        self._definition = PatternList.of(vocabulary.words("talk.talk.definition_patterns"))

    def for_model(self, model: DecisionModel) -> FeatureReader:
        """A reader of what `model` weighs: the on-demand features it gives no weight are left
        at 0, which is what they add to its scores. It shares this reader's word lists."""
        weighed = model.rank.weighed | model.reply.weighed
        reader = copy.copy(self)
        reader._unread = ON_DEMAND_FEATURES - weighed
        return reader

    def shape(self, text: str) -> Shape:
        words = Words.of(text)
        lowered = words.lowered
        counts, discourse = self._words.read(words, itemized=_DISCOURSE)
        opening = text[:_OPENING_CHARS]
        lowered_opening = lowered if len(text) <= _OPENING_CHARS else opening.lower()
        nonblank = [line for line in text.split("\n") if line.strip()] or [""]
        log_lines = {line: _LOG_LINE.match(line) is not None for line in nonblank}
        first = _FIRST_WORD.match(text)
        first_word = first["word"].lower() if first else ""
        first_stem = _stem(first_word)
        bullets = [m["word"].lower() for m in _BULLET.finditer(text)]
        first_person = counts["talk.report.first_person"]
        meeting = counts["talk.report.meeting"]
        features = {
            "question": float(_QUESTION.search(text, lowered) is not None),
            "first_person": _capped(first_person),
            "meeting_verbs": _capped(meeting),
            "first_person_meeting": float(first_person > 0 and meeting > 0),
            "help_words": _capped(counts["talk.report.help"]),
            "advice_words": _capped(counts["talk.report.advice"]),
            "asks_for_details": _capped(counts["talk.report.asks_back"]),
            "title_prefix": float(_TITLE_PREFIX.match(text, lowered) is not None),
            "bug_template": _capped(counts["talk.report.bug_template"]),
            "pr_template": _capped(counts["talk.talk.pr_template"]),
            "opens_with_greeting": float(
                self._opens_with_greeting(text, words, opening, lowered_opening)
            ),
            "addresses_someone": float(_MENTION.search(opening, lowered_opening) is not None),
            "version_numbers": _capped(_VERSION.count(text, lowered)),
            "starts_with_meeting_verb": float(first_stem in self._meeting_verbs),
            "hypothetical_words": _capped(counts["talk.talk.hypothetical"]),
            "project_words": _capped(counts["talk.talk.project"]),
            "resolved_words": _capped(counts["talk.talk.resolved"]),
            "starts_with_change_verb": float(
                first_word in self._change_verbs or first_stem in self._change_verbs
            ),
            "change_bullets": _capped(sum(word in self._change_verbs for word in bullets)),
            "resolution_said": float(self._resolved.search(text, lowered)),
            "definition_said": float(self._definition.search(text, lowered)),
            "glossary": 0.0 if "glossary" in self._unread else _glossary(text, lowered),
            "config_list": float(_CONFIG_LIST.search(text, lowered) is not None),
            "diff": 0.0 if "diff" in self._unread else _diff(text, lowered),
            "stack_trace": float(_STACK.search(text, lowered) is not None),
            "links": _capped(_LINK.count(text, lowered)),
            "code_fence": float(_FENCE in text),
            "quoted_lines": float(
                ">" in text and any(line.lstrip().startswith(">") for line in nonblank)
            ),
            "code_syntax": _capped(len(_CODE_SYNTAX.findall(text))),
            "log_lines": sum(log_lines[line] for line in nonblank) / len(nonblank),
            "length": math.log10(1 + len(text)),
            "lines": math.log1p(len(nonblank)),
            "single_line": float(len(nonblank) == 1),
            # Chinese, Japanese and Korean script, as the words' reading saw (no case to lower).
            "cjk": float(words.unspaced),
        }
        for word in discourse:
            features[WORD_FEATURE + word] = 1.0
        fences = tuple(m.start() for m in _FENCES.finditer(text, lowered))
        return Shape(features, fences, text.find(AFTERMATH_LINE), words, counts, log_lines)

    def _opens_with_greeting(self, text: str, words: Words, opening: str, lowered: str) -> bool:
        """Whether the opening (`lowered` is its lower case) holds a greeting; its words are
        looked up only when it holds one of the greetings' strings, which few messages do."""
        if not self._greeting.may_hold(lowered):
            return False
        opening_words = words if len(text) <= _OPENING_CHARS else Words.of(opening)
        return self._greeting.counts(opening_words)[_GREETING] > 0

    def rank_features(
        self, finding: Finding, findings: list[Finding], text: str, cues: Cues, shape: Shape
    ) -> dict[str, float]:
        """What speaks for one finding being the one to explain, among the others."""
        entry = finding.entry
        failures = [f.span[0] for f in findings if f.entry.is_failure]
        start = finding.span[0]
        protocol_cues = cues.protocols
        strongest = protocol_cues.strongest()
        low, high = line_start(text, start), line_end(text, start)
        on_line = [f.span[0] for f in findings if f is not finding and low <= f.span[0] <= high]
        features = {
            "confidence": finding.confidence,
            f"kind_{_kind_group(finding)}": 1.0,
            # "curl: (25) Failed FTP upload: 553": a wrapper's code first, the server's after it.
            "other_finding_before_on_line": float(any(o < start for o in on_line)),
            "other_finding_after_on_line": float(any(o > start for o in on_line)),
            "failure": float(entry.is_failure),
            "informational": float(entry.verdict == "info"),
            "probe_command": float(finding.failure.probe and entry.is_failure),
            "consequence": float(
                entry.key in CONSEQUENCES and bool(failures) and start > min(failures)
            ),
            "after_first_exception": float(0 <= shape.aftermath < start),
            "mentions": float(min(finding.mentions - 1, 3)),
            "corroborated": float(finding.corroborated),
            "first_failure": float(entry.is_failure and start == min(failures, default=-1)),
            "last_failure": float(entry.is_failure and start == max(failures, default=-1)),
            "protocol_cued": float(protocol_cues[entry.protocol] > 0),
            "protocol_strongest": float(
                entry.protocol == strongest and protocol_cues[strongest] > 0
            ),
            "other_protocol_cued": float(
                protocol_cues[entry.protocol] == 0 and protocol_cues[strongest] > 0
            ),
            "ambiguous_reading": float(len(finding.readings) > 1),
            f"protocol_{entry.protocol}": 1.0,
            # "raise socket.timeout()" in a traceback: the code that throws it, not the error met.
            "in_source_line": float(_CODE_SYNTAX.search(text, low, high) is not None),
            # "Permission denied.[550]": a wording on the line of a server's reply code is
            # that reply's text.
            "wording_beside_code": float(
                finding.kind == "phrase"
                and any(
                    other.kind == "code"
                    and other.entry.protocol in REPLY_PROTOCOLS
                    and other.entry.is_failure
                    and low <= other.span[0] <= high
                    for other in findings
                )
            ),
        }
        features.update(self._placement(finding, text, shape))
        features.update(_wrapping(finding, findings, text))
        return features

    def reply_features(
        self,
        decisive: Finding,
        findings: list[Finding],
        text: str,
        shape: Shape,
        in_thread: bool = False,
    ) -> dict[str, float]:
        """What speaks for the message being a report of this error, not talk about it.
        `in_thread`: the message answers inside a thread rather than opening one."""
        failures = {f.entry.key for f in findings if f.entry.is_failure}
        start, end = decisive.span
        sentence = _sentence(text, start, end)
        if sentence == text:
            in_sentence, lowered = shape.counts, shape.words.lowered
        else:
            words = Words.of(sentence)
            in_sentence, lowered = self._sentence_words.counts(words), words.lowered
        sentence_asks = "?" in sentence or "？" in sentence
        return {
            **shape.features,
            "sentence_question": float(sentence_asks),
            "sentence_first_person": float(in_sentence["talk.report.first_person"] > 0),
            "sentence_meeting_verb": float(in_sentence["talk.report.meeting"] > 0),
            "sentence_modal": float(_MODAL.search(sentence, lowered) is not None),
            "sentence_hypothetical": float(in_sentence["talk.talk.hypothetical"] > 0),
            "code_is_subject": float(_SUBJECT_AFTER.match(text, end) is not None),
            "question_about_code": float(
                sentence_asks
                and _QUESTION_ABOUT.match(text[max(0, start - 30) : start].rsplit("\n", 1)[-1])
                is not None
            ),
            "error_share_of_text": min(1.0, (end - start) / max(len(text.strip()), 1)),
            "finding_opens_message": float(not text[:start].strip(_MARKS_BEFORE_A_PASTE)),
            **self._placement(decisive, text, shape),
            "confidence": decisive.confidence,
            f"kind_{_kind_group(decisive)}": 1.0,
            "corroborated": float(decisive.corroborated),
            "mentions": float(min(decisive.mentions - 1, 3)),
            "distinct_failures": float(min(len(failures), MAX_COUNT)),
            "many_failures": float(len(failures) >= MANY_FAILURES),
            "discussion_near": float(self._discussion.search(sentence, lowered)),
            f"protocol_{decisive.entry.protocol}": 1.0,
            "in_thread": float(in_thread),
        }

    def _placement(self, finding: Finding, text: str, shape: Shape) -> dict[str, float]:
        """Where the finding sits: a log line, a quoted line, a code fence, the first line."""
        start = finding.span[0]
        low = line_start(text, start)
        line = text[low : line_end(text, start)]
        # The fences are in the text's order: those before the finding, at C speed.
        fences_before = bisect.bisect_left(shape.fences, start)
        first_line_end = text.find("\n")
        lowered = line.lower()
        column = start - low
        inline = _covers(_INLINE_CODE, line, lowered, column)
        in_link = _covers(_URL, line, lowered, column)
        logged = shape.log_lines.get(line)
        return {
            "in_link": float(in_link),
            "after_error_label": float(_after_error_label(text, low, start)),
            "in_inline_code": float(inline),
            "in_log_line": float(_LOG_LINE.match(line) is not None if logged is None else logged),
            "in_quote": float(line.lstrip().startswith(">")),
            "in_code_fence": float(fences_before % 2 == 1),
            "on_first_line": float(first_line_end == -1 or start < first_line_end),
        }


def _glossary(text: str, lowered: str) -> float:
    """Whether several codes are each defined ("10054 is ..., 10053 is ...")."""
    codes = {m["code"] for m in _COPULA_AFTER_CODE.finditer(text, lowered)}
    return float(len(codes) >= GLOSSARY_CODES)


def _diff(text: str, lowered: str) -> float:
    return float(_DIFF.search(text, lowered) is not None)


def _after_error_label(text: str, low: int, start: int) -> bool:
    """Whether an error label ends just before `start` on its line (`low` is where the line
    begins): only a text that ends as a label does is searched."""
    before = text[low:start].rstrip()
    return (
        before[-1:] in _ERROR_LABEL_ENDS
        and _ERROR_LABEL_BEFORE.search(text, low, start) is not None
    )


def _covers(pattern: GuardedPattern, line: str, lowered: str, column: int) -> bool:
    """Whether a match of the pattern on the line (`lowered` is its lower case) covers the
    column; a line its guard rules out costs no scan."""
    return pattern.may_match(line, lowered) and any(
        m.start() <= column < m.end() for m in pattern.pattern.finditer(line)
    )


def _wrapping(finding: Finding, findings: list[Finding], text: str) -> dict[str, float]:
    """Whether a client's wrapper code quotes this finding on its line ("curl: (7) Failed to
    connect to host port 21: Connection refused" quotes the refusal), or this finding is such a
    wrapper code and its line quotes another finding."""
    if _is_wrapper(finding):
        others = [f for f in findings if not _is_wrapper(f)]
        return {"wrapper_quoting": float(any(_quotes(finding, o, text) for o in others))}
    wrappers = [f for f in findings if _is_wrapper(f)]
    return {"quoted_by_wrapper": float(any(_quotes(w, finding, text) for w in wrappers))}


def _is_wrapper(finding: Finding) -> bool:
    return finding.kind == "code" and finding.entry.protocol in WRAPPER_PROTOCOLS


def _quotes(wrapper: Finding, other: Finding, text: str) -> bool:
    """Whether the rest of a line with the wrapper's code ("curl: (7)") holds the other
    finding's code or wording."""
    code = re.compile(rf"(?<![\w.-]){re.escape(other.entry.code)}(?![\w.])")
    entry = other.entry
    wordings = [n for n in map(normalize, (entry.title, *entry.phrases, *entry.names)) if n]
    for match in re.finditer(re.escape(wrapper.matched), text):
        rest = text[match.end() : line_end(text, match.end())]
        if other.is_number and code.search(rest):
            return True
        said = f" {normalize(rest)} "
        if not other.is_number and any(f" {norm} " in said for norm in wordings):
            return True
    return False


def _stem(word: str) -> str:
    """ "implementing" -> "implement", "returning" -> "return": the verb of a gerund title."""
    if word.endswith("ing") and len(word) > len("ing") + 2:
        stem = word.removesuffix("ing")
        doubled = len(stem) > len("ing") and stem[-1] == stem[-2]  # "returning", "stopping"
        return stem[:-1] if doubled else stem
    return word


def _kind_group(finding: Finding) -> str:
    return finding.kind if finding.kind in ("code", "errno", "name", "phrase") else "lookup"


def _capped(count: int | float) -> float:
    """The count, at most MAX_COUNT; a comparison, not a call of min(): a dozen a message."""
    return float(count if count < MAX_COUNT else MAX_COUNT)


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence around a span: back to a full stop or line break, on to the next."""
    low = max(0, start - 200)
    left = max(text.rfind(".", low, start), text.rfind("\n", low, start), low - 1)
    stop = end + 200
    # The nearer of the next full stop and line break, each sought only up to the nearest yet.
    for mark in (".", "\n"):
        found = text.find(mark, end, stop)
        if found != -1:
            stop = found
    return text[left + 1 : stop]


# ---------------------------------------------------------------- the file


def load_model(path: Path | None = None) -> DecisionModel:
    """The model at `path` (a site's), or the shipped one; a ModelError names what is wrong."""
    target = path or SHIPPED_MODEL
    name = str(target)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except OSError as error:
        raise ModelError(f"{name}: cannot be read ({error.strerror or error})") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"{name}: is not a JSON file ({error})") from error
    except RecursionError as error:
        raise ModelError(f"{name}: is JSON nested too deeply to be a model") from error
    model = model_from_dict(data, name)
    return DecisionModel(
        model.rank, model.reply, model.threshold, model.trained_on, "site" if path else "shipped"
    )


def model_from_dict(data: Any, name: str) -> DecisionModel:
    if not isinstance(data, dict):
        raise ModelError(f"{name}: expected a JSON object")
    if data.get("format") != MODEL_FORMAT:
        raise ModelError(f"{name}: field 'format': expected '{MODEL_FORMAT}'")
    if data.get("version") != MODEL_VERSION:
        raise ModelError(f"{name}: field 'version': expected {MODEL_VERSION}")
    threshold = data.get("threshold")
    if not _is_number(threshold) or not 0 < threshold < 1:
        raise ModelError(f"{name}: field 'threshold': expected a number between 0 and 1")
    trained_on = data.get("trained_on", {})
    if not isinstance(trained_on, dict):
        raise ModelError(f"{name}: field 'trained_on': expected an object")
    return DecisionModel(
        rank=_linear(data.get("rank"), f"{name}: field 'rank'", RANK_FEATURES),
        reply=_linear(data.get("reply"), f"{name}: field 'reply'", REPLY_FEATURES),
        threshold=float(threshold),
        trained_on=trained_on,
    )


def _linear(data: Any, where: str, known: frozenset[str]) -> LinearModel:
    if not isinstance(data, dict):
        raise ModelError(f"{where}: expected an object with bias, weights, means and scales")
    bias = data.get("bias")
    if not _is_number(bias):
        raise ModelError(f"{where}.bias: expected a number")
    tables: dict[str, dict[str, float]] = {}
    for part in ("weights", "means", "scales"):
        table = data.get(part)
        if not isinstance(table, dict) or not all(_is_number(v) for v in table.values()):
            raise ModelError(f"{where}.{part}: expected an object of feature names to numbers")
        unknown = sorted(n for n in set(table) if not _known_feature(n, known))
        if unknown:
            raise ModelError(f"{where}.{part}: unknown feature '{unknown[0]}'")
        tables[part] = {k: float(v) for k, v in table.items()}
    if any(scale <= 0 for scale in tables["scales"].values()):
        raise ModelError(f"{where}.scales: every scale must be above 0")
    return LinearModel(float(bias), tables["weights"], tables["means"], tables["scales"])


def _known_feature(name: str, known: frozenset[str]) -> bool:
    if name.startswith(WORD_FEATURE):
        return True
    if name.startswith(INTERACTION_FEATURE):
        left, _, right = name.removeprefix(INTERACTION_FEATURE).partition("*")
        return left in known and right in known
    return name in known


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_KINDS = ("kind_code", "kind_errno", "kind_name", "kind_phrase", "kind_lookup")
_PLACEMENT = (
    "in_link",
    "after_error_label",
    "in_inline_code",
    "in_log_line",
    "in_quote",
    "in_code_fence",
    "on_first_line",
)
_PROTOCOL_FEATURES = tuple(f"protocol_{p}" for p in PROTOCOLS)
RANK_FEATURES = frozenset(
    {
        "confidence",
        "failure",
        "informational",
        "probe_command",
        "consequence",
        "after_first_exception",
        "mentions",
        "corroborated",
        "first_failure",
        "last_failure",
        "protocol_cued",
        "protocol_strongest",
        "other_protocol_cued",
        "ambiguous_reading",
        "other_finding_before_on_line",
        "other_finding_after_on_line",
        "quoted_by_wrapper",
        "wrapper_quoting",
        "in_source_line",
        "wording_beside_code",
        *_KINDS,
        *_PLACEMENT,
        *_PROTOCOL_FEATURES,
    }
)
REPLY_FEATURES = frozenset(
    {
        "question",
        "first_person",
        "meeting_verbs",
        "first_person_meeting",
        "help_words",
        "advice_words",
        "asks_for_details",
        "title_prefix",
        "bug_template",
        "pr_template",
        "opens_with_greeting",
        "addresses_someone",
        "version_numbers",
        "starts_with_meeting_verb",
        "hypothetical_words",
        "project_words",
        "resolved_words",
        "starts_with_change_verb",
        "change_bullets",
        "resolution_said",
        "definition_said",
        "glossary",
        "config_list",
        "diff",
        "stack_trace",
        "links",
        "code_fence",
        "quoted_lines",
        "code_syntax",
        "log_lines",
        "length",
        "lines",
        "single_line",
        "cjk",
        "confidence",
        "corroborated",
        "mentions",
        "distinct_failures",
        "many_failures",
        "discussion_near",
        "sentence_question",
        "sentence_first_person",
        "sentence_meeting_verb",
        "sentence_modal",
        "sentence_hypothetical",
        "code_is_subject",
        "question_about_code",
        "error_share_of_text",
        "finding_opens_message",
        "in_thread",
        *_KINDS,
        *_PLACEMENT,
        *_PROTOCOL_FEATURES,
    }
)
