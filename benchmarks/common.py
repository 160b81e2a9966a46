"""What every part shares: table rows, targets, percentiles and units.

Each part returns rows of one table (part, subject, measure, value, target, result), so the
whole run prints as one table and a target's PASS or MISS sits beside the figure it judges.
"""

from __future__ import annotations

import math
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEV_CORPUS = REPO.parent / "shared" / "corpus" / "dev.jsonl"

PASS = "PASS"
MISS = "MISS"
SKIP = "SKIP"


@dataclass(frozen=True)
class Row:
    """One figure of the table; `target` and `result` are set only where a target applies."""

    part: str
    subject: str
    measure: str
    value: str
    target: str = ""
    result: str = ""


def judged(passed: bool) -> str:
    return PASS if passed else MISS


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


MILLISECOND = 1e-3
# Ratios below this get two decimals, those above one.
FINE_RATIO_BELOW = 10
# Sizes below this many bytes are shown in kB, others in MB.
KILOBYTES_BELOW = 100_000


def duration(seconds: float) -> str:
    """A duration in the unit that keeps three significant figures readable."""
    if math.isnan(seconds):
        return "n/a"
    if seconds < MILLISECOND:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def ratio(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return "n/a"
    return f"{value:.2f}x" if value < FINE_RATIO_BELOW else f"{value:.1f}x"


def share(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1%}"


def size(count: float) -> str:
    """Bytes in kB below a tenth of a megabyte, else in MB (decimal units, as MB/s is)."""
    return f"{count / 1e3:.1f} kB" if count < KILOBYTES_BELOW else f"{count / 1e6:.2f} MB"


def safe_ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def machine() -> str:
    """Where the figures were taken: they only compare within one machine and one run."""
    cpus = os.cpu_count() or 0
    return (
        f"Python {platform.python_version()} ({sys.implementation.name}), "
        f"{platform.system()} {platform.machine()}, {cpus} CPUs"
    )


HEADERS = ("part", "subject", "measure", "value", "target", "result")


def render_table(rows: Sequence[Row]) -> str:
    """A plain-text table; a rule between parts so each part reads as a block."""
    cells = [HEADERS, *((r.part, r.subject, r.measure, r.value, r.target, r.result) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADERS))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))

    rule = "  ".join("-" * width for width in widths)
    out = [line(HEADERS).rstrip(), rule]
    previous = None
    for row in rows:
        if previous is not None and row.part != previous:
            out.append(rule)
        out.append(line((row.part, row.subject, row.measure, row.value, row.target, row.result)))
        out[-1] = out[-1].rstrip()
        previous = row.part
    return "\n".join(out)


def summary(rows: Sequence[Row]) -> str:
    judged_rows = [r for r in rows if r.result in (PASS, MISS)]
    missed = [r for r in judged_rows if r.result == MISS]
    lines = [f"targets met: {len(judged_rows) - len(missed)} of {len(judged_rows)}"]
    lines += [f"  MISS {r.subject}: {r.measure} {r.value} (target {r.target})" for r in missed]
    return "\n".join(lines)
