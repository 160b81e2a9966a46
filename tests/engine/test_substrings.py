"""Substrings: one scan says whether a text holds any of many strings."""

from __future__ import annotations

import random

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


def test_strings_sharing_a_beginning_are_each_found() -> None:
    strings = Substrings.of(["fixed", "fixes", "find", "fi"])
    assert strings.any_in("a fix"), "the shortest string, which the others begin with, counts"
    assert not strings.any_in("f i x"), "no string is spread over a text"


def test_the_empty_string_is_in_every_text() -> None:
    assert Substrings.of(["", "never"]).any_in("x"), "as '' in text is true"


def test_the_scan_says_what_a_substring_test_of_each_string_says() -> None:
    generator = random.Random(7)
    for _ in range(500):
        strings = ["".join(generator.choices("ab c.*", k=generator.randint(1, 4))) for _ in "xyz"]
        text = "".join(generator.choices("ab c.*", k=generator.randint(0, 12)))
        plain = any(string in text for string in strings)
        assert Substrings.of(strings).any_in(text) == plain, (strings, text)


def test_every_string_a_text_holds_is_found_in_it() -> None:
    strings = Substrings.of(["is", "is fixed", "fixed", "this "])
    assert strings.found_in("this is fixed") == {"is", "is fixed", "fixed", "this "}, (
        "strings inside, overlapping and beginning others are each found"
    )


def test_a_text_holding_none_of_the_strings_finds_none() -> None:
    assert Substrings.of(["refused", "reset"]).found_in("timed out") == set(), "nothing held"
    assert Substrings.of([]).found_in("anything") == set(), "no strings, nothing found"


def test_the_strings_found_are_those_a_substring_test_of_each_finds() -> None:
    generator = random.Random(11)
    for _ in range(500):
        strings = ["".join(generator.choices("ab c.*", k=generator.randint(1, 4))) for _ in "xyz"]
        text = "".join(generator.choices("ab c.*", k=generator.randint(0, 12)))
        expected = {string for string in strings if string in text}
        assert Substrings.of(strings).found_in(text) == expected, (strings, text)
