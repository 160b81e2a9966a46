"""Who can fix it, scored on messages where the situation decides: the same code can be the
user's to fix, the server administrator's, the network's, or nothing at all
(tests/corpus/verdicts.jsonl)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path

from tests.support import engine

VERDICT_SET = Path(__file__).with_name("verdicts.jsonl")
VERDICTS = {"info", "you", "admin", "isp"}
FIELDS = {"id", "text", "protocol", "code", "verdict", "why"}
MIN_ACCURACY = 0.95
# The set exists to tell situations apart: it must keep enough codes that change hands.
MIN_CONTRASTING_PAIRS = 25


@dataclass(frozen=True)
class Labelled:
    id: str
    text: str
    protocol: str
    code: str
    verdict: str
    why: str


@dataclass(frozen=True)
class Scored:
    case: Labelled
    got: tuple[str, str, str] | None

    @property
    def right(self) -> bool:
        return self.got == (self.case.protocol, self.case.code, self.case.verdict)


def _rows() -> list[dict[str, str]]:
    lines = VERDICT_SET.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@cache
def labelled() -> tuple[Labelled, ...]:
    return tuple(Labelled(**row) for row in _rows())


@cache
def scored() -> tuple[Scored, ...]:
    """The engine's decisive reading of every message, through the JSON contract."""
    results = []
    for case in labelled():
        decisive = engine().explain(case.text).to_dict()["decisive"]
        got = (decisive["protocol"], decisive["code"], decisive["verdict"]) if decisive else None
        results.append(Scored(case, got))
    return tuple(results)


def _miss_line(result: Scored) -> str:
    case = result.case
    got = " ".join(result.got) if result.got else "nothing"
    return f"  {case.id}: wanted {case.protocol} {case.code} {case.verdict} ({case.why}), got {got}"


def test_every_line_has_exactly_the_labelled_fields() -> None:
    wrong = [
        (n, sorted(set(row) ^ FIELDS)) for n, row in enumerate(_rows(), 1) if set(row) != FIELDS
    ]
    assert not wrong, f"lines whose fields differ from {sorted(FIELDS)} (line, difference): {wrong}"


def test_ids_are_unique() -> None:
    ids = [case.id for case in labelled()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"ids used more than once: {duplicates}"


def test_every_verdict_is_one_of_the_four() -> None:
    odd = [(case.id, case.verdict) for case in labelled() if case.verdict not in VERDICTS]
    assert not odd, f"verdicts outside {sorted(VERDICTS)}: {odd}"


def test_the_set_keeps_enough_codes_that_change_hands() -> None:
    verdicts_by_code: dict[tuple[str, str], set[str]] = defaultdict(set)
    for case in labelled():
        verdicts_by_code[(case.protocol, case.code)].add(case.verdict)
    pairs = sum(len(list(combinations(v, 2))) for v in verdicts_by_code.values())
    assert pairs >= MIN_CONTRASTING_PAIRS, (
        f"{pairs} (code, verdict, other verdict) pairs; the set needs {MIN_CONTRASTING_PAIRS}"
    )


def test_verdict_accuracy() -> None:
    """Right means the decisive code and its verdict for this situation are both the expert's."""
    results = scored()
    misses = [result for result in results if not result.right]
    accuracy = 1 - len(misses) / len(results)
    assert accuracy >= MIN_ACCURACY, (
        f"verdict accuracy {accuracy:.1%} on {len(results)} messages, wanted {MIN_ACCURACY:.0%}; "
        f"misses ({len(misses)}):\n" + "\n".join(_miss_line(result) for result in misses)
    )
