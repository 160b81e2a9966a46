"""The shipped model scored on the project's own held-out sets (tests/corpus/holdout*.jsonl):
messages written for this purpose that the shipped model never saw (it is trained on the shared
corpora only). They test mechanisms; the honest figure on real text is the cross-validation in
test_cross_validation.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import Report, evaluate, load_cases
from tests.support import REPORTS, engine

MIN_DECISIVE_ACCURACY = 0.90
MAX_FALSE_REPLY_RATE = 0.05
# The reply model is precision-first (its threshold holds false replies near 4% on real text),
# so it answers unasked about two reports in three; mentions and /errcode answer every one.
MIN_REPLY_RECALL = 0.60

HOLDOUTS = sorted(Path(__file__).parent.glob("holdout*.jsonl"))


@pytest.fixture(scope="module", params=HOLDOUTS, ids=[path.stem for path in HOLDOUTS])
def report(request: pytest.FixtureRequest) -> Report:
    corpus: Path = request.param
    result = evaluate(engine(), load_cases(corpus))
    REPORTS[corpus.name] = result
    return result


def test_decisive_accuracy(report: Report) -> None:
    assert report.decisive_accuracy >= MIN_DECISIVE_ACCURACY, report.render()


def test_automatic_replies_reach_those_who_need_one(report: Report) -> None:
    assert report.reply_recall >= MIN_REPLY_RECALL, report.render()


def test_no_automatic_reply_to_chat_without_an_error(report: Report) -> None:
    assert report.false_reply_rate <= MAX_FALSE_REPLY_RATE, report.render()
