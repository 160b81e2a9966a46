"""Recognition scored on the shared labelled corpus of real messages."""

from __future__ import annotations

import pytest

from bot.evaluation import evaluate, load_cases
from tests.support import DEV_CORPUS, REPORTS, engine

MIN_DECISIVE_ACCURACY = 0.90
MIN_REPLY_RECALL = 0.95
MAX_FALSE_REPLY_RATE = 0.05

pytestmark = pytest.mark.skipif(
    not DEV_CORPUS.is_file(),
    reason=f"the shared corpus is not here ({DEV_CORPUS}); it lives beside the checkout",
)


@pytest.fixture(scope="module")
def report():
    result = evaluate(engine(), load_cases(DEV_CORPUS))
    REPORTS[DEV_CORPUS.name] = result
    return result


def test_decisive_accuracy(report) -> None:
    assert report.decisive_accuracy >= MIN_DECISIVE_ACCURACY, report.render()


def test_automatic_replies_reach_those_who_need_one(report) -> None:
    assert report.reply_recall >= MIN_REPLY_RECALL, report.render()


def test_no_automatic_reply_to_chat_without_an_error(report) -> None:
    assert report.false_reply_rate <= MAX_FALSE_REPLY_RATE, report.render()
