"""Who can fix it, scored on messages where the situation decides: the same code can be the
user's to fix, the server administrator's, the network's, or nothing at all.

Two labelled sets: tests/corpus/verdicts.jsonl, which the context cases and triage's situations
were tuned on, and tests/corpus/verdicts_holdout.jsonl, written blind before that tuning (other
wordings, products and genres) and never tuned on: its score is the honest estimate of how the
mechanism generalizes."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path

import pytest

from tests.support import engine

VERDICTS = {"info", "you", "admin", "isp"}
FIELDS = {"id", "text", "protocol", "code", "verdict", "why"}


@dataclass(frozen=True)
class VerdictSet:
    name: str
    min_accuracy: float
    # A set exists to tell situations apart: it must keep enough codes that change hands.
    min_contrasting_pairs: int

    @property
    def path(self) -> Path:
        return Path(__file__).with_name(self.name)


SETS = [
    VerdictSet("verdicts.jsonl", min_accuracy=0.95, min_contrasting_pairs=25),
    # The held-out set has a lower bar because it must stay unseen: a miss on it is reported,
    # never fixed by a case or a detector written for that message, or it would become a second
    # tuning set and stop measuring anything. Unseen wordings will always miss some detector;
    # Its first score was 60.0%; with the mechanisms tuned on the other set it reaches 76.7%. The
    # floor holds what is reached (fourteen misses in sixty, each reported, none tuned away);
    # 85% (nine misses) is what a mechanism that generalizes should come to keep.
    VerdictSet("verdicts_holdout.jsonl", min_accuracy=0.75, min_contrasting_pairs=20),
]


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


def _rows(verdict_set: VerdictSet) -> list[dict[str, str]]:
    lines = verdict_set.path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@cache
def labelled(verdict_set: VerdictSet) -> tuple[Labelled, ...]:
    return tuple(Labelled(**row) for row in _rows(verdict_set))


@cache
def scored(verdict_set: VerdictSet) -> tuple[Scored, ...]:
    """The engine's decisive reading of every message, through the JSON contract."""
    results = []
    for case in labelled(verdict_set):
        decisive = engine().explain(case.text).to_dict()["decisive"]
        got = (decisive["protocol"], decisive["code"], decisive["verdict"]) if decisive else None
        results.append(Scored(case, got))
    return tuple(results)


def _miss_line(result: Scored) -> str:
    case = result.case
    got = " ".join(result.got) if result.got else "nothing"
    return f"  {case.id}: wanted {case.protocol} {case.code} {case.verdict} ({case.why}), got {got}"


each_set = pytest.mark.parametrize("verdict_set", SETS, ids=[s.name for s in SETS])


@each_set
def test_every_line_has_exactly_the_labelled_fields(verdict_set: VerdictSet) -> None:
    wrong = [
        (n, sorted(set(row) ^ FIELDS))
        for n, row in enumerate(_rows(verdict_set), 1)
        if set(row) != FIELDS
    ]
    assert not wrong, f"lines whose fields differ from {sorted(FIELDS)} (line, difference): {wrong}"


@each_set
def test_ids_are_unique(verdict_set: VerdictSet) -> None:
    ids = [case.id for case in labelled(verdict_set)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"ids used more than once: {duplicates}"


def test_the_sets_share_no_message() -> None:
    first, held_out = ({case.text for case in labelled(s)} for s in SETS)
    assert not first & held_out, f"messages in both sets: {sorted(first & held_out)}"


@each_set
def test_every_verdict_is_one_of_the_four(verdict_set: VerdictSet) -> None:
    odd = [(c.id, c.verdict) for c in labelled(verdict_set) if c.verdict not in VERDICTS]
    assert not odd, f"verdicts outside {sorted(VERDICTS)}: {odd}"


@each_set
def test_the_set_keeps_enough_codes_that_change_hands(verdict_set: VerdictSet) -> None:
    verdicts_by_code: dict[tuple[str, str], set[str]] = defaultdict(set)
    for case in labelled(verdict_set):
        verdicts_by_code[(case.protocol, case.code)].add(case.verdict)
    pairs = sum(len(list(combinations(v, 2))) for v in verdicts_by_code.values())
    wanted = verdict_set.min_contrasting_pairs
    assert pairs >= wanted, f"{pairs} (code, verdict, other verdict) pairs; the set needs {wanted}"


@each_set
def test_verdict_accuracy(verdict_set: VerdictSet) -> None:
    """Right means the decisive code and its verdict for this situation are both the expert's."""
    results = scored(verdict_set)
    misses = [result for result in results if not result.right]
    accuracy = 1 - len(misses) / len(results)
    wanted = verdict_set.min_accuracy
    assert accuracy >= wanted, (
        f"verdict accuracy {accuracy:.1%} on {len(results)} messages, wanted {wanted:.0%}; "
        f"misses ({len(misses)}):\n" + "\n".join(_miss_line(result) for result in misses)
    )
