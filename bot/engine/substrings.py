"""Whether a text holds any of many strings, and which, in one scan at C speed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

# A trie of strings: each character leads to the rest; END marks where a string is whole.
_Trie = dict[str, "_Trie"]
END = ""


@dataclass(frozen=True)
class Substrings:
    """Strings sought together. A message is tested against a dozen such lists, some of a
    hundred strings, and most messages hold none of them: one regular-expression scan of the
    text costs less than a substring test for each string from Python. The expression is the
    strings' trie ("fi(?:xed|nd)"), so each position of the text tries each first character
    once, not each string."""

    pattern: re.Pattern[str] | None
    strings: frozenset[str]

    @classmethod
    def of(cls, strings: Iterable[str]) -> Substrings:
        unique = frozenset(strings)
        return cls(re.compile(_alternation(_trie(unique))) if unique else None, unique)

    def any_in(self, text: str) -> bool:
        """Whether `text` holds one of the strings (as they are: no case is ignored)."""
        return self.pattern is not None and self.pattern.search(text) is not None

    def found_in(self, text: str) -> set[str]:
        """The strings `text` holds. A string found at a position is a prefix of the longest
        one there, so one scan for each position's longest finds them all; a text that holds
        none (most) costs the scan of `any_in`."""
        if not self.any_in(text):
            return set()
        found: set[str] = set()
        prefixes = self._prefixes
        for longest in self._longest.findall(text):
            found.update(prefixes[longest])
        return found

    @cached_property
    def _longest(self) -> re.Pattern[str]:
        """Every position's longest string, in a lookahead so that no position is skipped:
        built on the first `found_in`, which most lists of strings never call."""
        return re.compile(f"(?=({_longest_alternation(_trie(self.strings))}))")

    @cached_property
    def _prefixes(self) -> dict[str, tuple[str, ...]]:
        """Each string with the strings it begins with (itself too): those a position holds
        besides its longest."""
        return {
            string: tuple(s for s in self.strings if string.startswith(s))
            for string in self.strings
        }


def _trie(strings: Iterable[str]) -> _Trie:
    trie: _Trie = {}
    for string in strings:
        node = trie
        for char in string:
            node = node.setdefault(char, {})
        node[END] = {}
    return trie


def _alternation(node: _Trie) -> str:
    """The expression of a trie's strings; a string that ends here makes what follows it
    needless, since a text holding a longer one holds it too."""
    if END in node:
        return ""
    branches = [re.escape(char) + _alternation(rest) for char, rest in sorted(node.items())]
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"


def _longest_alternation(node: _Trie) -> str:
    """The expression of a trie's strings that matches the longest one a position holds: a
    string that ends here makes what follows it optional (greedy), not needless."""
    children = [
        re.escape(char) + _longest_alternation(rest)
        for char, rest in sorted(node.items())
        if char != END
    ]
    if not children:
        return ""
    branches = children[0] if len(children) == 1 else f"(?:{'|'.join(children)})"
    if END not in node:
        return branches
    return f"(?:{branches})?"
