"""The project's own labelled messages: each one is a behaviour the engine must keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import Case, evaluate, load_cases
from tests.support import REPORTS, engine

CASES = load_cases(Path(__file__).with_name("cases.jsonl"))


# Whether to answer unasked is the decision model's, a learned and precision-first choice: each
# case holds the reading (the decisive code) and the silence it asks for, and the set as a whole
# the share of reports answered unasked.
MIN_REPLY_RECALL = 0.55


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case) -> None:
    answer = engine().explain(case.text)
    got = answer.decisive.key if answer.decisive else None
    if case.expect_reply:
        assert got == case.target, f"{case.id}: wanted {case.target}, got {got}"
    else:
        assert not answer.reply, f"{case.id}: replied with {got} ({answer.confidence:.2f})"


def test_own_cases_as_a_whole_meet_the_corpus_thresholds() -> None:
    report = evaluate(engine(), CASES)
    REPORTS["tests/corpus/cases.jsonl"] = report
    assert report.decisive_accuracy == 1.0, report.render()
    assert report.false_reply_rate == 0.0, report.render()
    assert report.reply_recall >= MIN_REPLY_RECALL, report.render()
