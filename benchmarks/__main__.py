"""`python -m benchmarks [PART ...] [--quick]`: run the benchmarks and print one table.

PART is recognition, triage or end_to_end (alias e2e); all three when none is named. The
figures compare only within one run on one machine, which is why the peers and the baseline
are measured in the same run as errdesk.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import end_to_end, recognition, triage
from benchmarks.common import DEV_CORPUS, Row, machine, render_table, summary

PARTS = ("recognition", "triage", "end_to_end")
ALIASES = {"e2e": "end_to_end", "end-to-end": "end_to_end", "logs": "triage"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="errdesk's speed and answer quality beside the naive ways, in one table.",
    )
    parser.add_argument(
        "parts",
        nargs="*",
        metavar="PART",
        help=f"which parts to run: {', '.join(PARTS)} (default: all)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small counts: proves each part runs, in seconds"
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEV_CORPUS,
        help="labelled corpus for recognition (default: %(default)s)",
    )
    parser.add_argument("--events", type=int, help="end to end: events per server (default 2000)")
    parser.add_argument("--rate", type=float, help="end to end: events per second (default 200)")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    chosen = [ALIASES.get(part, part) for part in args.parts] or list(PARTS)
    unknown = [part for part in chosen if part not in PARTS]
    if unknown:
        parser.error(f"unknown part {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    runners: dict[str, Callable[[], list[Row]]] = {
        "recognition": lambda: recognition.run(args.quick, args.corpus),
        "triage": lambda: triage.run(args.quick),
        "end_to_end": lambda: end_to_end.run(args.quick, args.events, args.rate),
    }
    started = time.monotonic()
    rows: list[Row] = []
    for part in PARTS:
        if part in chosen:
            rows += runners[part]()
    mode = "quick run (small counts, figures not comparable)" if args.quick else "full run"
    print(f"errdesk benchmarks: {mode}; {machine()}")
    print()
    print(render_table(rows))
    print()
    print(summary(rows))
    print(f"took {time.monotonic() - started:.0f} s")
    return 1 if args.strict and any(row.result == "MISS" for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
