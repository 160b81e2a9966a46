"""Substrings: one scan says whether a text holds any of many strings."""

from __future__ import annotations

from bot.engine.substrings import Substrings


def test_a_text_holding_one_of_the_strings_is_found() -> None:
    strings = Substrings.of(["refused", "reset", "c++"])
    assert strings.any_in("connection reset by peer"), "a string inside a text is found"
    assert strings.any_in("needs c++ 17"), "a string with regex characters is found as it is"


def test_a_text_holding_none_of_the_strings_is_not_found() -> None:
    strings = Substrings.of(["refused", "reset"])
    assert not strings.any_in("connection timed out"), "no string, no finding"
    assert not strings.any_in("RESET"), "case is not ignored: callers pass lower case"


def test_no_strings_are_never_found() -> None:
    assert not Substrings.of([]).any_in("anything"), "an empty list holds nothing to find"
