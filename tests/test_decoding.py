"""Bytes to text as Windows tools write it: byte order marks decide, UTF-8 otherwise."""

from __future__ import annotations

import codecs

from bot.decoding import decode_text


def test_a_utf8_byte_order_mark_is_dropped() -> None:
    assert decode_text(codecs.BOM_UTF8 + b"Response: 550") == "Response: 550"


def test_utf16_with_a_byte_order_mark_is_decoded() -> None:
    assert decode_text("Response: 550".encode("utf-16")) == "Response: 550"
    assert decode_text(codecs.BOM_UTF16_BE + "550".encode("utf-16-be")) == "550"


def test_utf32_is_not_mistaken_for_utf16() -> None:
    assert decode_text("Response: 550".encode("utf-32")) == "Response: 550"


def test_bytes_that_do_not_decode_become_replacement_characters() -> None:
    assert decode_text(b"550 \xff done") == "550 \ufffd done"
