"""Text as Windows tools write it, for every way text comes in as bytes (shared files, stdin).

PowerShell and Notepad write UTF-16 with a byte order mark, some tools UTF-8 with one; a log
read as plain UTF-8 would then be noise, or start with an invisible character.
"""

from __future__ import annotations

import codecs

# Text or binary: more than MAX_NOT_TEXT of a file's first bytes that are neither text nor
# whitespace (or any NUL outside UTF-16/32) and it is binary.
MAX_NOT_TEXT = 0.10
_TEXT_CONTROLS = frozenset("\t\n\r\f\b\x1b")
# Longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(body: bytes) -> str:
    """UTF-16 or UTF-32 with a byte order mark, UTF-8 with or without one; bytes that do not
    decode become U+FFFD."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    return body.decode("utf-8", errors="replace")


def looks_binary(sample: bytes) -> bool:
    """Whether the first bytes of a file are not text: a NUL where no UTF-16/32 mark says
    there may be some, or more than MAX_NOT_TEXT of characters that do not decode or are
    control characters."""
    has_bom = any(sample.startswith(bom) for bom, _ in _BOMS if bom != codecs.BOM_UTF8)
    if b"\0" in sample and not has_bom:
        return True
    text = decode_text(sample)[:-2]  # the sample may end inside a character
    if not text:
        return False
    odd = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in _TEXT_CONTROLS))
    return odd / len(text) > MAX_NOT_TEXT
