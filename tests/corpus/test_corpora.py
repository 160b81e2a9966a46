"""Recognition scored on labelled corpora: the shared corpus of real messages, and the
project's own held-out sets of messages written for this purpose (tests/corpus/holdout*.jsonl)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import Report, evaluate, load_cases
from tests.support import DEV_CORPUS, REPORTS, engine

MIN_DECISIVE_ACCURACY = 0.90
MIN_REPLY_RECALL = 0.95
MAX_FALSE_REPLY_RATE = 0.05

HOLDOUTS = sorted(Path(__file__).parent.glob("holdout*.jsonl"))


@pytest.fixture(
    scope="module",
    params=[DEV_CORPUS, *HOLDOUTS],
    ids=["shared-dev", *(path.stem for path in HOLDOUTS)],
)
def report(request: pytest.FixtureRequest) -> Report:
    corpus: Path = request.param
    if not corpus.is_file():
        pytest.skip(f"the corpus is not here ({corpus}); the shared one lives beside the checkout")
    result = evaluate(engine(), load_cases(corpus))
    REPORTS[corpus.name] = result
    return result


def test_decisive_accuracy(report: Report) -> None:
    assert report.decisive_accuracy >= MIN_DECISIVE_ACCURACY, report.render()


def test_automatic_replies_reach_those_who_need_one(report: Report) -> None:
    assert report.reply_recall >= MIN_REPLY_RECALL, report.render()


def test_no_automatic_reply_to_chat_without_an_error(report: Report) -> None:
    assert report.false_reply_rate <= MAX_FALSE_REPLY_RATE, report.render()
