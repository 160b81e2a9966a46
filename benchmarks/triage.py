"""Log triage: throughput and peak memory of Engine.explain on long pasted client logs.

A log is explained whole, the way a pasted or uploaded log reaches the engine. The engine
bounds its work: `source.read` keeps the head and tail of a text longer than MAX_SCAN_CHARS, and
(where present) `source.focus` hands recognition only the lines that can matter. So the table
gives throughput over the input and over what the engine reads at all, and says how much of
each log recognition saw; MB/s over an input larger than what is read flatters the engine.
Time and memory are measured in separate runs: tracemalloc slows Python down severalfold.
"""

from __future__ import annotations

import itertools
import math
import time
import tracemalloc
from dataclasses import dataclass

from benchmarks.common import Row, duration, judged, median, ratio, safe_ratio, size
from benchmarks.logs import GeneratedLog, generate_log
from bot.engine import Engine, load_knowledge
from bot.engine.source import read, read_message

PART = "triage"
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (100, 1_000, 10_000)
THROUGHPUT_TARGET = 20.0  # MB/s
TARGET_FROM_LINES = 10_000
# Linear growth is 10x per 10x lines; the margin absorbs timer noise on small logs.
GROWTH_LIMIT = 12.0


@dataclass(frozen=True)
class Measured:
    log: GeneratedLog
    seconds: float
    read_chars: int
    recognized_chars: int
    peak_bytes: int
    decisive: str
    right: bool


def stages(text: str) -> tuple[int, int]:
    """Characters the engine reads (`source.read`) and hands to recognition (`source.focus`)."""
    return len(read(text).text), len(read_message(text).text)


def measure(engine: Engine, log: GeneratedLog, repeats: int) -> Measured:
    answer = engine.explain(log.text)  # warm-up: first-call costs are not throughput
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = engine.explain(log.text)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    try:
        engine.explain(log.text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    read, recognized = stages(log.text)
    got = answer.decisive.key if answer.decisive else None
    decisive = f"{got[0]} {got[1]}" if got else "nothing"
    if answer.failure.command:
        decisive += f" after {answer.failure.command}"
    return Measured(log, median(times), read, recognized, peak, decisive, got == log.expected)


def _repeats(lines: int, quick: bool) -> int:
    if quick:
        return 1
    return max(3, min(25, 200_000 // lines))


def run(quick: bool = False) -> list[Row]:
    engine = Engine(load_knowledge())
    sizes = QUICK_SIZES if quick else SIZES
    results = [measure(engine, generate_log(n), _repeats(n, quick)) for n in sizes]
    rows: list[Row] = []
    for result in results:
        rows += _size_rows(result, "FileZilla")
    middle = sizes[len(sizes) // 2]
    winscp = measure(engine, generate_log(middle, "winscp"), _repeats(middle, quick))
    rows += _size_rows(winscp, "WinSCP")
    for small, large in itertools.pairwise(results):
        growth = safe_ratio(large.seconds, small.seconds)
        per_tenfold = growth ** (1 / _decades(small.log.lines, large.log.lines))
        rows.append(
            Row(
                PART,
                f"{small.log.lines:,} -> {large.log.lines:,} lines",
                "time growth per 10x lines",
                f"{ratio(per_tenfold)} ({duration(small.seconds)} -> {duration(large.seconds)})",
                f"<= {GROWTH_LIMIT:.0f}x (linear)",
                judged(per_tenfold <= GROWTH_LIMIT),
            )
        )
    return rows


def _decades(small: int, large: int) -> float:
    return math.log10(large / small)


def _size_rows(result: Measured, style: str) -> list[Row]:
    log = result.log
    subject = f"{log.lines:,}-line {style} log ({size(log.size)})"
    read_bytes = min(log.size, result.read_chars)  # the logs are ASCII: one byte a character
    over_input = log.size / 1e6 / result.seconds
    over_read = read_bytes / 1e6 / result.seconds
    cut = "whole input" if result.read_chars >= len(log.text) else "head + tail only"
    # The target is set for the 10,000- and 100,000-line logs; smaller ones show growth only.
    judge = log.lines >= TARGET_FROM_LINES
    return [
        Row(PART, subject, "time per explain", duration(result.seconds)),
        Row(
            PART,
            subject,
            "throughput over what is read",
            f"{over_read:.1f} MB/s",
            f">= {THROUGHPUT_TARGET:.0f} MB/s" if judge else "",
            judged(over_read >= THROUGHPUT_TARGET) if judge else "",
        ),
        Row(PART, subject, "throughput over the input", f"{over_input:.1f} MB/s"),
        Row(
            PART,
            subject,
            "read / recognized",
            f"{size(read_bytes)} ({cut}) / {size(result.recognized_chars)}",
        ),
        Row(
            PART,
            subject,
            "peak memory (tracemalloc)",
            f"{size(result.peak_bytes)} ({result.peak_bytes / log.size:.1f}x input)",
        ),
        Row(
            PART,
            subject,
            "decisive finding",
            f"{result.decisive} ({'the planted failure' if result.right else 'WRONG'})",
        ),
    ]
