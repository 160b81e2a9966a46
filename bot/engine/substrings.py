"""Whether a text holds any of many strings, in one scan at C speed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

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

    @classmethod
    def of(cls, strings: Iterable[str]) -> Substrings:
        trie: _Trie = {}
        for string in set(strings):
            node = trie
            for char in string:
                node = node.setdefault(char, {})
            node[END] = {}
        return cls(re.compile(_alternation(trie)) if trie else None)

    def any_in(self, text: str) -> bool:
        """Whether `text` holds one of the strings (as they are: no case is ignored)."""
        return self.pattern is not None and self.pattern.search(text) is not None


def _alternation(node: _Trie) -> str:
    """The expression of a trie's strings; a string that ends here makes what follows it
    needless, since a text holding a longer one holds it too."""
    if END in node:
        return ""
    branches = [re.escape(char) + _alternation(rest) for char, rest in sorted(node.items())]
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
