"""Hostile or huge input is answered or declined, and the work done is bounded.

These tests assert bounds on the work (how much text is scanned, how many lines are searched),
not wall-clock time: speed belongs to the benchmarks.
"""

from __future__ import annotations

import json

import pytest

from bot.engine.recognize import phrases
from bot.engine.recognize.phrases import MAX_PHRASE_LINES, _phrase_lines
from bot.engine.source import MAX_SCAN_CHARS, read
from tests.support import engine

HOSTILE = {
    "a megabyte of digits": "7" * 1_000_000,
    "a 100k-line log": "\n".join(
        f"Response:\t200 Line {n} ok\nCommand:\tNOOP" for n in range(50_000)
    )
    + "\nResponse:\t550 Permission denied.",
    "a phrase 10k times": "Connection reset by peer " * 10_000,
    "odd unicode": "\u202e\u200b\ufeff𝟒𝟐𝟓 ｃａｎ’ｔ ｏｐｅｎ ｄａｔａ ｃｏｎｎｅｃｔｉｏｎ" * 2_000,
    "NUL bytes": "\x00" * 100_000 + "error 425" + "\x00" * 100_000,
    "one endless line": "error " * 200_000,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_gets_an_answer_without_crashing(name: str) -> None:
    text = HOSTILE[name]
    result = engine().explain(text).to_dict()
    assert json.loads(json.dumps(result)) == result, f"{name}: the answer is not plain JSON"
    spans = [finding["span"] for finding in result["findings"]]
    outside = [span for span in spans if not 0 <= span[0] < span[1] <= len(text)]
    assert outside == [], f"{name}: spans outside the {len(text)} characters given"


def test_scanned_text_is_bounded() -> None:
    assert len(read(HOSTILE["a megabyte of digits"]).text) <= MAX_SCAN_CHARS + 1


def test_phrase_search_visits_a_bounded_number_of_lines() -> None:
    text = read("\n".join(f"line {n} says hello" for n in range(100_000))).text
    assert len(_phrase_lines(text)) <= MAX_PHRASE_LINES


def test_repeated_lines_are_searched_once() -> None:
    text = read("Connection reset by peer\n" * 10_000).text
    assert len(_phrase_lines(text)) == 1


def test_a_long_line_is_searched_in_a_bounded_number_of_windows() -> None:
    windows = _phrase_lines(read("error " * 40_000).text)
    assert len(windows) <= 20


def test_the_end_of_a_huge_log_is_still_read() -> None:
    answer = engine().explain(HOSTILE["a 100k-line log"])
    assert answer.decisive is not None
    assert answer.decisive.key == ("ftp", "550")


def test_nul_bytes_do_not_hide_an_error() -> None:
    answer = engine().explain(HOSTILE["NUL bytes"])
    assert answer.decisive is not None
    assert answer.decisive.key == ("ftp", "425")


def test_fuzzy_matching_is_not_reached_for_lines_without_anchor_words(monkeypatch) -> None:
    calls = []
    real = phrases.fuzz.partial_ratio
    monkeypatch.setattr(
        phrases.fuzz, "partial_ratio", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    engine().explain("\n".join(f"{n} {n * 7} {n * 13}" for n in range(5_000)))
    assert calls == []
