"""The words recognition and the decision read, as data: cue words per protocol, error words
per language, the words of talk about an error (resolutions, definitions, changes), units and
noise. Bundled files live in knowledge/vocabulary/; a site extends them with files of the same
names in its own ERRDESK_KNOWLEDGE_DIR/vocabulary/, whose lists are added to the bundled ones.

Validation collects every problem with its file and field, as for the knowledge entries.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from re import _parser as regex_parser  # type: ignore[attr-defined]  # the stdlib's own parser
from typing import Any

from bot.engine.knowledge import PROTOCOLS, KnowledgeError, Problem, bundled_dir
from bot.engine.substrings import Substrings

VOCABULARY_FOLDER = "vocabulary"
_CUE_FIELDS = frozenset({"words", "strings", "prefixes", "methods"})
# Characters below this are ASCII: only they fold to their lower case as `str.lower` does.
ASCII_LIMIT = 128


@dataclass
class Vocabulary:
    """Every word list, merged from the bundled files and a site's."""

    priors: dict[str, float] = field(default_factory=dict)
    cue_scan_chars: int = 65_536
    cue_words: dict[str, list[str]] = field(default_factory=dict)
    cue_strings_by_protocol: dict[str, list[str]] = field(default_factory=dict)
    cue_prefixes_by_protocol: dict[str, list[str]] = field(default_factory=dict)
    cue_methods_by_protocol: dict[str, list[str]] = field(default_factory=dict)
    # Named word lists of the other files: {"errors.labels": [...], "talk.resolved": [...]}.
    lists: dict[str, list[str]] = field(default_factory=dict)
    # The `_patterns` lists searched together (`patterns_of`) compiled so far, by their names.
    _together: dict[tuple[str, ...], PatternLists] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @cached_property
    def cue_protocols(self) -> tuple[str, ...]:
        named = set(self.cue_words) | set(self.cue_strings_by_protocol)
        named |= set(self.cue_prefixes_by_protocol) | set(self.cue_methods_by_protocol)
        return tuple(p for p in PROTOCOLS if p in named)

    @cached_property
    def cue_by_word(self) -> dict[str, tuple[str, ...]]:
        """Each cue word and the protocols it speaks for ("ssh": SSH itself, and SFTP over it)."""
        found: dict[str, tuple[str, ...]] = {}
        for protocol, words in self.cue_words.items():
            for word in words:
                found[word.lower()] = (*found.get(word.lower(), ()), protocol)
        return found

    @cached_property
    def cue_strings(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (s.lower(), p) for p, strings in self.cue_strings_by_protocol.items() for s in strings
        )

    @cached_property
    def cue_prefixes(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (s.lower(), p) for p, items in self.cue_prefixes_by_protocol.items() for s in items
        )

    @cached_property
    def cue_prefix_starts(self) -> frozenset[str]:
        return frozenset(start[:3] for start, _ in self.cue_prefixes)

    @cached_property
    def cue_methods(self) -> dict[str, str]:
        return {m: p for p, methods in self.cue_methods_by_protocol.items() for m in methods}

    def prior(self, protocol: str) -> float:
        return self.priors.get(protocol, 0.0)

    def words(self, name: str) -> tuple[str, ...]:
        """A named list ("talk.resolved"), empty when no file defines it."""
        return tuple(self.lists.get(name, ()))

    def patterns_of(self, names: tuple[str, ...]) -> PatternLists:
        """`_patterns` lists searched together, compiled once: triage searches a dozen in every
        message (see PatternLists)."""
        together = self._together.get(names)
        if together is None:
            together = self._together[names] = PatternLists.of(
                (name, PatternList.of(self.words(name))) for name in names
            )
        return together

    def alternation(self, name: str) -> str:
        """A named list as a regular-expression alternation, longest first, each escaped
        except where the list is of patterns (names ending in "_patterns")."""
        items = sorted(self.words(name), key=len, reverse=True)
        if name.endswith("_patterns"):
            return "|".join(items)
        return "|".join(re.escape(item) for item in items)


def vocabulary_dirs(extra_dir: Path | None) -> list[Path]:
    folders = [bundled_dir() / VOCABULARY_FOLDER]
    if extra_dir is not None and (extra_dir / VOCABULARY_FOLDER).is_dir():
        folders.append(extra_dir / VOCABULARY_FOLDER)
    return folders


def load_vocabulary(extra_dir: Path | None = None) -> Vocabulary:
    vocabulary, problems = read_vocabulary(extra_dir)
    if problems:
        raise KnowledgeError(problems)
    return vocabulary


def read_vocabulary(extra_dir: Path | None = None) -> tuple[Vocabulary, list[Problem]]:
    """The bundled word lists, then a site's (added to them), and every problem found."""
    vocabulary = Vocabulary()
    problems: list[Problem] = []
    folders = vocabulary_dirs(extra_dir)
    if not any(folders[0].glob("*.toml")):
        problems.append(Problem(str(folders[0]), "", "", "no vocabulary files (*.toml) found"))
    known: frozenset[str] | None = None
    for folder in folders:
        for path in sorted(folder.glob("*.toml")):
            _read_file(path, vocabulary, problems, known)
        # A site adds to the bundled lists; a list of its own would be read by nothing.
        known = frozenset(vocabulary.lists)
    return vocabulary, problems


def _read_file(
    path: Path, vocabulary: Vocabulary, problems: list[Problem], known: frozenset[str] | None
) -> None:
    """One vocabulary file's lists; `known` holds the lists a site's file may add to (None for
    the bundled files, which define them)."""
    name = f"{VOCABULARY_FOLDER}/{path.name}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(name, "", "", f"cannot be read: {error}"))
        return
    except tomllib.TOMLDecodeError as error:
        problems.append(Problem(name, "", "", f"is not valid TOML: {error}"))
        return
    except RecursionError:
        problems.append(Problem(name, "", "", "is TOML nested too deeply to read"))
        return
    if path.stem == "cues":
        _read_cues(data, name, vocabulary, problems)
        return
    for section, lists in data.items():
        if not isinstance(lists, dict):
            problems.append(Problem(name, "", section, "must be a table of word lists"))
            continue
        for list_name, words in lists.items():
            where = f"{section}.{list_name}"
            full_name = f"{path.stem}.{where}"
            if known is not None and full_name not in known:
                problems.append(Problem(name, "", where, _unknown_list(full_name, known)))
                continue
            texts = _texts(words, name, where, problems)
            if texts is not None and list_name.endswith("_patterns"):
                texts = _patterns(texts, name, where, problems)
            if texts is not None:
                vocabulary.lists.setdefault(full_name, []).extend(texts)


def _unknown_list(full_name: str, known: frozenset[str]) -> str:
    """What to say of a site's list that no bundled file defines: the nearest name, if any."""
    stem, _, listed = full_name.partition(".")
    in_file = sorted(name.partition(".")[2] for name in known if name.startswith(f"{stem}."))
    if not in_file:
        files = sorted({f"{name.partition('.')[0]}.toml" for name in known} | {"cues.toml"})
        return f"is in a file errdesk does not read (its vocabulary files: {', '.join(files)})"
    near = difflib.get_close_matches(listed, in_file, n=1)
    hint = f"; did you mean {near[0]}?" if near else ""
    return f"is not a list errdesk reads (a site adds to the bundled lists){hint}"


def _read_cues(
    data: dict[str, Any], name: str, vocabulary: Vocabulary, problems: list[Problem]
) -> None:
    for section in sorted(set(data) - {"prior", "scan", "protocol"}):
        problems.append(Problem(name, "", section, "is not a known table (prior, scan, protocol)"))
    for protocol, value in _table(data, "prior", name, problems).items():
        if protocol not in PROTOCOLS:
            problems.append(Problem(name, "", f"prior.{protocol}", "is not a protocol"))
        elif not _is_number(value) or not 0 <= value <= 1:
            problems.append(Problem(name, "", f"prior.{protocol}", "must be a number from 0 to 1"))
        else:
            vocabulary.priors[protocol] = float(value)
    scan = _table(data, "scan", name, problems).get("chars")
    if scan is not None:
        if not isinstance(scan, int) or isinstance(scan, bool) or scan < 1:
            problems.append(Problem(name, "", "scan.chars", "must be a positive whole number"))
        else:
            vocabulary.cue_scan_chars = scan
    protocols = data.get("protocol", {})
    if not isinstance(protocols, dict):
        problems.append(Problem(name, "", "protocol", "must be a table of [protocol.NAME] tables"))
        return
    targets = {
        "words": vocabulary.cue_words,
        "strings": vocabulary.cue_strings_by_protocol,
        "prefixes": vocabulary.cue_prefixes_by_protocol,
        "methods": vocabulary.cue_methods_by_protocol,
    }
    for protocol, table in protocols.items():
        where = f"protocol.{protocol}"
        if protocol not in PROTOCOLS:
            problems.append(
                Problem(name, "", where, f"'{protocol}' is not one of {', '.join(PROTOCOLS)}")
            )
            continue
        if not isinstance(table, dict):
            problems.append(Problem(name, "", where, "must be a table"))
            continue
        for unknown in sorted(set(table) - _CUE_FIELDS):
            problems.append(Problem(name, "", f"{where}.{unknown}", "is not a known field"))
        for key, target in targets.items():
            texts = _texts(table.get(key, []), name, f"{where}.{key}", problems)
            if texts:
                target.setdefault(protocol, []).extend(texts)


def _patterns(texts: list[str], file: str, where: str, problems: list[Problem]) -> list[str]:
    """Regular expressions that compile; each one that does not is a problem of its own."""
    kept = []
    for position, text in enumerate(texts, start=1):
        try:
            re.compile(text)
        except re.error as error:
            problems.append(
                Problem(file, "", f"{where}[{position}]", f"is not a regular expression: {error}")
            )
        else:
            kept.append(text)
    return kept


def _table(data: dict[str, Any], key: str, file: str, problems: list[Problem]) -> dict[str, Any]:
    """A table of cues.toml; empty, and a problem, when it is something else."""
    value = data.get(key, {})
    if isinstance(value, dict):
        return value
    problems.append(Problem(file, "", key, f"must be a table ([{key}])"))
    return {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _texts(value: Any, file: str, where: str, problems: list[Problem]) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(Problem(file, "", where, "must be a list of non-empty strings"))
        return None
    return list(value)


# A pattern's leading strings are kept to this many: beyond, the pattern is guarded by fewer,
# shorter ones (each still starts every match). Sixteen, not eight: a pattern list seeks all
# its guards in one scan (Substrings), and at eight a list of nine verbs ("migrated|moved|...",
# a situation's) left its pattern unguarded, run on every message.
MAX_GUARD_STRINGS = 16
# Leading strings this long are telling enough: longer ones would only add substring tests.
GUARD_CHARS = 5
# A character class of at most this many characters leads with each of them ("[1-6]").
MAX_CLASS_CHARS = 10
# Anchors and lookarounds consume nothing: a match holds none of their strings.
_ZERO_WIDTH = frozenset({regex_parser.AT, regex_parser.ASSERT, regex_parser.ASSERT_NOT})


@dataclass(frozen=True)
class PatternList:
    """A `_patterns` list of the vocabulary, searched case-insensitively: whether any of its
    patterns occurs. Each pattern is guarded by strings one of which every match of it holds
    ("\\b(?:works?|connects?)" by "work" and "conne", `required_strings`); on an
    ASCII text only the patterns whose strings the lower-cased text holds run, found with a
    substring test each at C speed, so a text with none of them costs a few look-ups. A text
    that is not ASCII is searched for every pattern: case-folding beyond ASCII ("ſ" matches
    "s") would slip past the guards."""

    # Each guarding string, and the patterns (by position in `guarded`) it guards.
    guards: Mapping[str, tuple[int, ...]]
    guarded: tuple[re.Pattern[str], ...]
    unguarded: re.Pattern[str] | None
    every: re.Pattern[str] | None

    @classmethod
    def of(cls, patterns: Iterable[str]) -> PatternList:
        patterns = tuple(patterns)
        guards: dict[str, list[int]] = {}
        guarded: list[re.Pattern[str]] = []
        rest = []
        for pattern in patterns:
            compiled = re.compile(pattern, re.I)
            strings = required_strings(compiled)
            if not strings:
                rest.append(pattern)
                continue
            for string in strings:
                guards.setdefault(string, []).append(len(guarded))
            guarded.append(compiled)
        return cls(
            {string: tuple(positions) for string, positions in guards.items()},
            tuple(guarded),
            _any_of(rest),
            _any_of(patterns),
        )

    def search(self, text: str, lowered: str | None = None) -> bool:
        """Whether any pattern occurs in `text`; `lowered` is `text.lower()` when the caller
        has it already."""
        if not text.isascii():
            return self.every is not None and self.every.search(text) is not None
        return self.search_holding(text, text.lower() if lowered is None else lowered)

    def search_holding(self, text: str, held: Container[str]) -> bool:
        """`search` of an ASCII text, told which guarding strings it holds: `held` is its lower
        case (a substring test each: for a list's few dozen guards that costs less than one
        scan for them all, which tries every guard's first character at every position), or the
        set of the strings found in it already."""
        guards = self.guards
        woken = {p for string in guards if string in held for p in guards[string]}
        if any(self.guarded[position].search(text) for position in woken):
            return True
        return self.unguarded is not None and self.unguarded.search(text) is not None


@dataclass(frozen=True)
class PatternLists:
    """Pattern lists searched in the same text (triage's dozen situations, in every message):
    the strings guarding any of them are found in one scan, and every list then runs the
    patterns they wake. Each list seeking its own guards costs a scan a list."""

    named: tuple[tuple[str, PatternList], ...]
    # Every list's guarding strings, sought together.
    any_string: Substrings

    @classmethod
    def of(cls, named: Iterable[tuple[str, PatternList]]) -> PatternLists:
        named = tuple(named)
        return cls(named, Substrings.of(s for _, listed in named for s in listed.guards))

    def found(self, text: str, lowered: str) -> set[str]:
        """The names of the lists one of whose patterns occurs in `text` (`lowered` is
        `text.lower()`)."""
        if not text.isascii():
            return {name for name, listed in self.named if listed.search(text, lowered)}
        held = self.any_string.found_in(lowered)
        return {name for name, listed in self.named if listed.search_holding(text, held)}


def _any_of(patterns: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = [f"(?:{pattern})" for pattern in patterns]
    return re.compile("|".join(alternatives), re.I) if alternatives else None


def required_strings(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """Lower-case ASCII strings one of which every match of `pattern` holds somewhere (in an
    ASCII text, ignoring case), the longest and fewest found; empty when a match may hold none
    of any ("^[^\\n]{0,60}\\b230\\b" holds "230"; "\\d+" nothing)."""
    required = _required(regex_parser.parse(pattern.pattern, pattern.flags).data)
    return _fewest(required) if required else ()


def _fewest(strings: set[str]) -> tuple[str, ...]:
    """The strings, shortest first, without those holding another: "worked" is in a text only
    if "work" is, so it adds nothing to a guard."""
    kept = sorted(strings, key=lambda string: (len(string), string))
    return tuple(s for i, s in enumerate(kept) if not any(t in s for t in kept[:i]))


def _required(items: Any) -> set[str] | None:
    """Strings one of which every match of these parsed items holds: those that start the
    items from some element on, or that an element holds inside it, whichever tell most."""
    best: set[str] | None = None
    for position, (op, argument) in enumerate(items):
        if op in _ZERO_WIDTH:
            continue
        starts, _ = _sequence_starts(items[position:])
        for found in (starts if "" not in starts else None, _inner_required(op, argument)):
            if found and (best is None or _tells_more(found, best)):
                best = found
    return best


def _inner_required(op: Any, argument: Any) -> set[str] | None:
    if op == regex_parser.SUBPATTERN:
        return _required(argument[-1])
    if op == regex_parser.BRANCH:
        every: set[str] = set()
        for alternative in filter(_may_match_ascii, argument[1]):
            found = _required(alternative)
            if not found:
                return None  # an alternative that may hold none makes the whole hold none
            every |= found
        return every if len(every) <= MAX_GUARD_STRINGS else None
    if op in (regex_parser.MAX_REPEAT, regex_parser.MIN_REPEAT) and argument[0] >= 1:
        return _required(argument[2])
    return None


def _may_match_ascii(items: Any) -> bool:
    """False when a match of these parsed items must hold a character no ASCII character
    matches, ignoring case ("означает"): in an ASCII text, where guards are used, such an
    alternative never matches and needs no guard of its own."""
    return not any(
        op == regex_parser.LITERAL and argument >= ASCII_LIMIT and not _folds_to_ascii(argument)
        for op, argument in items
    )


@cache
def _folds_to_ascii(code: int) -> bool:
    """Whether a character matches some ASCII one when case is ignored ("ſ" matches "s")."""
    character = re.compile(re.escape(chr(code)), re.I)
    return any(character.fullmatch(chr(ascii_code)) for ascii_code in range(ASCII_LIMIT))


def _tells_more(strings: set[str], than: set[str]) -> bool:
    """Longer strings are rarer in a text, fewer are fewer substring tests."""
    return (min(map(len, strings)), -len(strings)) > (min(map(len, than)), -len(than))


@dataclass(frozen=True)
class GuardedPattern:
    """A compiled pattern run only on a text that holds one of the strings each of its matches
    holds (`required_strings`): most messages hold none of a log's words, and a few substring
    tests at C speed cost less than the pattern's scan. A text beyond ASCII is always searched:
    case-folding beyond ASCII ("ſ" matches "s") would slip past the strings."""

    pattern: re.Pattern[str]
    required: tuple[str, ...]

    @classmethod
    def compile(cls, pattern: str, flags: int = 0) -> GuardedPattern:
        compiled = re.compile(pattern, flags)
        return cls(compiled, required_strings(compiled))

    def may_match(self, text: str, lowered: str) -> bool:
        """False only when no match can be in `text` (`lowered` is `text.lower()`)."""
        if not self.required or not text.isascii():
            return True
        # A loop, not any(): no generator is made on every call, a dozen a message.
        for string in self.required:
            if string in lowered:
                break
        else:
            return False
        return True

    def finditer(self, text: str, lowered: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text) if self.may_match(text, lowered) else iter(())

    def search(self, text: str, lowered: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.may_match(text, lowered) else None

    def match(self, text: str, lowered: str) -> re.Match[str] | None:
        return self.pattern.match(text) if self.may_match(text, lowered) else None

    def count(self, text: str, lowered: str) -> int:
        """How many matches `text` holds, as many as `findall` finds."""
        return len(self.pattern.findall(text)) if self.may_match(text, lowered) else 0


def _sequence_starts(items: Any) -> tuple[set[str], bool]:
    """The strings a match of these parsed items starts with, and whether each match is
    exactly one of them (then what follows the items starts a match too)."""
    starts = {""}
    for op, argument in items:
        if op in _ZERO_WIDTH:
            continue
        element = _element_starts(op, argument)
        if element is None:
            return starts, False
        strings, whole = element
        longer = {start + string for start in starts for string in strings}
        if len(longer) > MAX_GUARD_STRINGS:
            return starts, False
        starts = longer
        if not whole or min(map(len, starts)) >= GUARD_CHARS:
            return starts, False
    return starts, True


def _element_starts(op: Any, argument: Any) -> tuple[set[str], bool] | None:
    """What one parsed element starts with, as `_sequence_starts` says; None when unknown."""
    if op == regex_parser.LITERAL:
        return ({chr(argument).lower()}, True) if argument < ASCII_LIMIT else None
    if op == regex_parser.IN:
        return _class_starts(argument)
    if op == regex_parser.SUBPATTERN:
        return _sequence_starts(argument[-1])
    if op == regex_parser.BRANCH:
        strings: set[str] = set()
        whole = True
        for alternative in argument[1]:
            starts, alternative_whole = _sequence_starts(alternative)
            strings |= starts
            whole = whole and alternative_whole
        return strings, whole
    if op in (regex_parser.MAX_REPEAT, regex_parser.MIN_REPEAT):
        least, most, repeated = argument
        if least == 0:
            return None
        starts, whole = _sequence_starts(repeated)
        return starts, whole and least == most == 1
    return None


def _class_starts(members: Any) -> tuple[set[str], bool] | None:
    """A small class of ASCII characters ("[1-6]", "[-*]") starts with each of them."""
    chars: set[str] = set()
    for op, argument in members:
        if op == regex_parser.LITERAL:
            chars.add(chr(argument))
        elif op == regex_parser.RANGE and argument[1] - argument[0] < MAX_CLASS_CHARS:
            chars.update(chr(code) for code in range(argument[0], argument[1] + 1))
        else:
            return None  # a negated class, a category (\d, \w), a wide range
    if len(chars) > MAX_CLASS_CHARS or not all(char.isascii() for char in chars):
        return None
    return {char.lower() for char in chars}, True
