"""Text as Windows tools write it, for every way text comes in as bytes (shared files, stdin).

PowerShell and Notepad write UTF-16 with a byte order mark, some tools UTF-8 with one; a log
read as plain UTF-8 would then be noise, or start with an invisible character.
"""

from __future__ import annotations

import codecs

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
