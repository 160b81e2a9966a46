"""The decision measured on real text nobody here wrote: the 987 shared labelled messages,
cross-validated in five folds grouped by source thread, both models refitted in each fold and
the reply threshold chosen inside each fold's training part (`errdesk model report`).

Scoring the shipped model on the messages it was trained on would measure nothing; this is
the figure that says how errdesk does on the next message. Where the shared corpora or
scikit-learn (the `train` extra) are absent, these tests skip, saying which.
"""

from __future__ import annotations

import importlib.util

import pytest

from bot.engine import Engine, load_vocabulary
from bot.training import UNTRAINED, Report, cross_validate
from tests.support import CROSS_VALIDATED, SHARED_CORPORA, bundled_kb

# Decisive accuracy and false replies are the goals themselves. Recall is held where it is
# (73.8% at 4.3% false replies; the mean of six splits 73.6% at 3.8%), below the goal of 85% at
# <= 5%: a change that loses ground fails.
# The folds and the fits are deterministic, so the figures repeat exactly from run to run.
MIN_DECISIVE_ACCURACY = 0.95
MAX_FALSE_REPLY_RATE = 0.05
MIN_REPLY_RECALL = 0.735
# The whole trade-off, pooled out-of-fold: recall at 10% false replies.
MIN_RECALL_AT_TEN_PERCENT = 0.85


@pytest.fixture(scope="module")
def report() -> Report:
    missing = [path.name for path in SHARED_CORPORA if not path.is_file()]
    if missing:
        pytest.skip(f"the shared corpora are not beside the checkout: {', '.join(missing)}")
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("scikit-learn (the train extra) is not installed: pip install '.[train]'")
    engine = Engine(bundled_kb(), load_vocabulary(), UNTRAINED)
    result = cross_validate(engine, SHARED_CORPORA)
    CROSS_VALIDATED["the shared corpora"] = result.render()
    return result


def test_the_decisive_finding_is_the_one_the_person_needs_explained(report: Report) -> None:
    figures = report.figures()
    assert figures.decisive_accuracy >= MIN_DECISIVE_ACCURACY, report.render()


def test_false_replies_stay_within_what_a_helpdesk_tolerates(report: Report) -> None:
    figures = report.figures()
    assert figures.false_reply_rate <= MAX_FALSE_REPLY_RATE, report.render()


def test_replies_reach_the_people_stuck_on_an_error(report: Report) -> None:
    figures = report.figures()
    assert figures.reply_recall >= MIN_REPLY_RECALL, report.render()


def test_the_trade_off_holds_at_ten_percent_false_replies(report: Report) -> None:
    assert report.trade_off[0.10] >= MIN_RECALL_AT_TEN_PERCENT, report.render()
