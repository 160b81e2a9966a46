"""Deciding: the rank model picks the decisive finding; the reply model decides whether to
answer unasked, under the rules of the conversation. Models are written here by hand, so that
each test says what the model wanted and shows what the rules do with it."""

from __future__ import annotations

from bot.engine.decide import WHY_FEATURES, Conversation, Decider, Decision
from bot.engine.model import DecisionModel, LinearModel
from tests.support import engine

FAILURE = "Response: 550 Permission denied."
INFORMATIONAL = "226 Transfer complete."
TWO_FAILURES = "Response: 530 Login incorrect.\nResponse: 421 Too many connections"
# A reply model sure of a reply whatever the message: only a rule can say no.
EAGER = LinearModel(10.0, {}, {}, {})
# A rank model with no opinion: every finding scores the same.
INDIFFERENT = LinearModel(0.0, {}, {}, {})


def decide(
    text: str,
    *,
    rank: LinearModel = INDIFFERENT,
    reply: LinearModel = EAGER,
    threshold: float = 0.5,
    asked: bool = False,
    conversation: Conversation | None = None,
) -> Decision:
    bundled = engine()
    source, cues, findings = bundled.observe(text, asked=asked)
    decider = Decider(DecisionModel(rank, reply, threshold), bundled.features)
    return decider.decide(findings, source.text, cues, asked, conversation)


def favouring(feature: str) -> LinearModel:
    """A rank model that scores one feature and nothing else."""
    return LinearModel(0.0, {feature: 1.0}, {feature: 0.0}, {feature: 1.0})


def test_a_message_with_no_finding_has_nothing_to_decide() -> None:
    decision = decide("lunch at noon?")
    assert decision == Decision(), f"no finding, no decisive one and no reply: {decision}"


def refused_by_rule(decision: Decision, words: str, why: str) -> None:
    """The eager model wanted to reply; a rule said no, and names itself with `words`."""
    assert decision.probability > 0.99, "the eager model would reply to anything"
    assert not decision.reply, why
    assert decision.rule is not None, f"a rule decided, and should say so: {decision}"
    assert words in decision.rule, f"the rule should be the one on {words}: {decision.rule}"


def test_an_informational_reply_is_never_answered_unasked() -> None:
    refused_by_rule(
        decide(INFORMATIONAL), "informational", "226 Transfer complete needs no explanation"
    )


def test_an_explicit_question_is_not_auto_replied() -> None:
    refused_by_rule(
        decide(FAILURE, asked=True),
        "explicit question",
        "a question asked of errdesk is answered, not auto-replied",
    )


def test_in_a_thread_someone_helping_is_not_answered_unasked() -> None:
    helper = Conversation(in_thread=True, from_thread_starter=False)
    refused_by_rule(
        decide(FAILURE, conversation=helper),
        "starter",
        "a person helping in a thread quotes the error; do not answer them",
    )


def test_in_a_thread_its_starter_is_answered_unasked() -> None:
    starter = Conversation(in_thread=True, from_thread_starter=True)
    decision = decide(FAILURE, conversation=starter)
    assert decision.reply, "the person who started the thread is the one stuck"
    assert decision.rule is None, f"no rule stands in the way: {decision.rule}"


def test_the_reply_model_weighs_a_follow_up_in_a_thread() -> None:
    # A reply model that only says no to messages answering inside a thread.
    quiet_in_threads = LinearModel(
        5.0, {"in_thread": -10.0}, {"in_thread": 0.0}, {"in_thread": 1.0}
    )
    starter = Conversation(in_thread=True, from_thread_starter=True)
    opening = decide(FAILURE, reply=quiet_in_threads)
    follow_up = decide(FAILURE, reply=quiet_in_threads, conversation=starter)
    assert opening.reply, f"the message opening a thread is not a follow-up: {opening}"
    assert not follow_up.reply, f"the model weighs where the message sits: {follow_up}"
    assert follow_up.rule is None, "the model decided, not a rule"


def test_without_a_rule_a_probability_at_the_threshold_replies() -> None:
    even = LinearModel(0.0, {}, {}, {})  # a probability of one half
    assert decide(FAILURE, reply=even, threshold=0.5).reply, "at the threshold is enough"


def test_without_a_rule_a_probability_below_the_threshold_does_not_reply() -> None:
    even = LinearModel(0.0, {}, {}, {})
    decision = decide(FAILURE, reply=even, threshold=0.51)
    assert not decision.reply, f"0.5 is below 0.51: {decision}"
    assert decision.rule is None, "the model decided, not a rule"


def test_the_decisive_finding_is_the_highest_ranked() -> None:
    first = decide(TWO_FAILURES, rank=favouring("first_failure")).decisive
    last = decide(TWO_FAILURES, rank=favouring("last_failure")).decisive
    assert first is not None, "two failures were found"
    assert last is not None, "two failures were found"
    assert first.entry.code == "530", "a model ranking the first failure highest picks 530"
    assert last.entry.code == "421", "a model ranking the last failure highest picks 421"


def test_findings_ranked_alike_leave_the_earlier_one_decisive() -> None:
    decisive = decide(TWO_FAILURES).decisive
    assert decisive is not None, "two failures were found"
    assert decisive.entry.code == "530", f"on a tie the earlier finding: {decisive.entry.code}"


def test_why_holds_the_strongest_pushes_first() -> None:
    decision = decide(FAILURE, reply=engine().model.reply, threshold=engine().model.threshold)
    pushes = [abs(c.push) for c in decision.why]
    assert 0 < len(pushes) <= WHY_FEATURES, f"at most {WHY_FEATURES} features: {decision.why}"
    assert pushes == sorted(pushes, reverse=True), f"strongest first: {decision.why}"
