"""The text as the engine reads it, and the way back to the text as it was given.

Before recognition a message is bounded, Slack's markup is undone, unicode look-alikes are
folded, credentials are masked and long logs are cut to the lines that matter. Findings are
located in that text; the JSON answer promises spans in the input, so every edit records where
its pieces came from. Masking is last and one for one, so no stage after this one, and nothing
that quotes the text read, can repeat a password or a token.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bot.engine.secrets import find, kinds_of, masked

# Longer texts are cut to their head and tail: the decisive failure of a huge log is near its end.
MAX_SCAN_CHARS = 4_194_304
HEAD_CHARS = 65_536

_SLACK_LINK = re.compile(r"<(?:[@#!][^>|]*|(?P<url>[a-z]+:[^>|]*))(?:\|(?P<label>[^>]*))?>", re.I)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_CONTROL_TO_SPACE = {c: " " for c in range(32) if c not in (9, 10)} | {127: " "}

# One edit: sorted (offset in the new text, offset in the old text) where each piece starts.
Segments = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Source:
    text: str
    edits: tuple[Segments, ...] = ()
    # The kinds of credential masked in `text` (set by the reading, which alone sees them).
    secrets: tuple[str, ...] = ()

    def original(self, offset: int) -> int:
        """The offset in the given text of `offset` in this one (the start of its piece for
        characters that an edit produced, such as an unescaped entity)."""
        for segments in reversed(self.edits):
            index = bisect.bisect_right(segments, offset, key=lambda segment: segment[0]) - 1
            new_start, old_start = segments[max(index, 0)]
            offset = old_start + max(offset - new_start, 0)
        return offset

    def edited(self, text: str, segments: Segments) -> Source:
        return Source(text, (*self.edits, segments))


def read(text: str) -> Source:
    """Bound the size, undo Slack's markup, fold unicode look-alikes (fullwidth digits...) and
    mask credentials in place."""
    return _masked(_prepared(text))


def _masked(source: Source) -> Source:
    """Last: credentials masked one for one, and the kinds found kept for the answer's warning."""
    found = find(source.text)
    return Source(masked(source.text, found), source.edits, kinds_of(found))


def _prepared(text: str) -> Source:
    """`read` but for the masking, which comes last."""
    source = Source(text)
    if len(text) > MAX_SCAN_CHARS:
        tail = len(text) - (MAX_SCAN_CHARS - HEAD_CHARS)
        bounded = text[:HEAD_CHARS] + "\n" + text[tail:]
        source = source.edited(bounded, ((0, 0), (HEAD_CHARS + 1, tail)))
    if "<" in source.text:
        source = _substitute(source, _SLACK_LINK, lambda m: m["label"] or m["url"] or "")
    if "&" in source.text:
        source = _substitute(source, _ENTITY, lambda m: html.unescape(m.group(0)))
    if not source.text.isascii():
        folded = unicodedata.normalize("NFKC", source.text)
        if len(folded) == len(source.text):  # fullwidth digits and the like: one for one
            source = Source(folded, source.edits)
        else:  # some characters expand or combine: fold run by run, keeping the way back
            source = _substitute(
                source, _NON_ASCII_RUN, lambda m: unicodedata.normalize("NFKC", m.group(0))
            )
    return Source(source.text.translate(_CONTROL_TO_SPACE), source.edits)


def _substitute(
    source: Source, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str]
) -> Source:
    """`pattern.sub(replace)`, recording where each piece of the new text came from."""
    pieces: list[str] = []
    segments: list[tuple[int, int]] = [(0, 0)]
    written = last = 0
    for match in pattern.finditer(source.text):
        replacement = replace(match)
        if replacement == match.group(0):
            continue
        before = source.text[last : match.start()]
        pieces += [before, replacement]
        written += len(before)
        segments.append((written, match.start()))
        written += len(replacement)
        last = match.end()
        segments.append((written, last))
    if last == 0:
        return source
    pieces.append(source.text[last:])
    return source.edited("".join(pieces), tuple(segments))


def keep(source: Source, ranges: list[tuple[int, int]]) -> Source:
    """Only these (sorted, disjoint) ranges of the text, joined by newlines."""
    pieces = []
    segments = []
    written = 0
    for start, end in ranges:
        segments.append((written, start))
        pieces.append(source.text[start:end])
        written += end - start + 1
    return source.edited("\n".join(pieces), tuple(segments))


# Texts longer than this are cut down to the lines that can matter before recognition.
FOCUS_ABOVE = 16_384
FOCUS_HEAD_CHARS = 1_024
FOCUS_TAIL_CHARS = 4_096
FOCUS_CONTEXT_LINES = 3
FOCUS_MAX_HITS = 500
# Words of lines that can hold a failure (looked for with str.find, far faster than a regex).
# Failures in server replies are caught by their 4xx/5xx code; these catch client-side ones.
_FAILURE_WORDS = (
    "error", "fail", "denied", "refused", "reset", "timed out", "no such", "not found", "abort",
    "closed", "exceed", "quota", "unreach", "exception", "errno", "wsa", "_fx_", "econn",
    "etimedout", "enotfound", "eai_", "错误", "失败",
)  # fmt: skip
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# A plain three-digit run is found at C speed; the few that touch other digits are dropped after.
_THREE_DIGITS = re.compile(r"[45]\d\d")


def read_message(text: str) -> Source:
    """A message as the engine reads it: `read`, with a long log focused on what can matter
    before its credentials are masked (what focus leaves out is never read, nor repeated)."""
    source = _prepared(text)
    ranges = focus(source.text)
    return _masked(keep(source, ranges) if ranges else source)


def focus(text: str) -> list[tuple[int, int]] | None:
    """The ranges of a long log worth reading: its head, its tail, and every line that can hold
    a failure with the few lines before it (the command a reply answers); None for a text short
    enough to read whole. Finding those lines is a handful of C-speed scans, so the slower
    recognition that follows sees a bounded text."""
    if len(text) <= FOCUS_ABOVE:
        return None
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters lower-case to two characters
        lowered = text.translate(_ASCII_LOWER)
    hits = [
        m.start()
        for m in _THREE_DIGITS.finditer(text)
        if not _touches_digit(text, m.start() - 1, -1) and not _touches_digit(text, m.end(), 1)
    ]
    for word in _FAILURE_WORDS:
        position = lowered.find(word)
        while position != -1:
            hits.append(position)
            line_end = lowered.find("\n", position)  # one hit a line is enough
            position = -1 if line_end == -1 else lowered.find(word, line_end + 1)
    tail_start = max(0, len(text) - FOCUS_TAIL_CHARS)
    ranges = [(0, _line_end(text, FOCUS_HEAD_CHARS))]
    for hit in sorted(set(hits))[-FOCUS_MAX_HITS:]:
        if hit < tail_start:
            ranges.append((_lines_back(text, hit, FOCUS_CONTEXT_LINES), _line_end(text, hit)))
    ranges.append((_lines_back(text, tail_start, 0), len(text)))
    return _merged(ranges)


def _touches_digit(text: str, position: int, step: int) -> bool:
    """A digit or "." next to the number, or a thousands comma with a digit beyond it."""
    if not 0 <= position < len(text):
        return False
    char = text[position]
    if char.isdigit() or char == ".":
        return True
    beyond = position + step
    return char == "," and 0 <= beyond < len(text) and text[beyond].isdigit()


def _line_end(text: str, position: int, reach: int = 1_024) -> int:
    """The end of the line at `position`, or `reach` characters on in an endless line."""
    end = text.find("\n", position, position + reach)
    return min(len(text), position + reach) if end == -1 else end


def _lines_back(text: str, position: int, lines: int, reach: int = 4_096) -> int:
    """The start of the line `lines` lines before `position`, looking back `reach` at most."""
    low = max(0, position - reach)
    start = position
    for _ in range(lines + 1):
        start = text.rfind("\n", low, start)
        if start == -1:
            return low
    return start + 1


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
