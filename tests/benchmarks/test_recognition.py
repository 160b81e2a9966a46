"""The recognition benchmark's stand-in decision, which the learned one's cost is timed against."""

from __future__ import annotations

from benchmarks.recognition import RuleDecider
from bot.engine import Engine, load_knowledge


def _ruled_engine() -> Engine:
    engine = Engine(load_knowledge())
    engine.decider = RuleDecider(engine.model, engine.decider.reader)
    return engine


def test_the_rule_takes_the_first_finding_and_replies_to_a_failure() -> None:
    answer = _ruled_engine().explain("curl: (22) The requested URL returned error: 403")
    assert len(answer.findings) > 1, "the line holds a wrapper's code and the server's"
    assert answer.decisive == answer.findings[0].entry, "the first finding decides"
    assert answer.reply, "a failure met is replied to, with no model asked"


def test_the_rule_answers_an_explicit_question_without_replying() -> None:
    answer = _ruled_engine().lookup("ftp 425")
    assert answer.decisive is not None, "a bare code is explained"
    assert answer.decisive.code == "425", "the code asked for is the one explained"
    assert not answer.reply, "an explicit question is answered, not auto-replied"


def test_the_rule_finds_nothing_to_decide_in_chat() -> None:
    answer = _ruled_engine().explain("lunch?")
    assert answer.decisive is None, "nothing found, nothing decided"
    assert not answer.reply, "and nothing replied"
