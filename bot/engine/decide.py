"""Decide: which finding is the one the person needs explained, and whether to speak unasked.

Both choices are the decision model's (bot/engine/model.py): it weighs readable features of
each finding and of the message, with weights fitted to labelled messages. Two rules from the
conversation stand on top of it: an informational reply is never worth an unasked answer, and
in a thread only the person who started it is answered unasked (people helping are not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.engine.model import Contribution, DecisionModel, FeatureReader, LinearModel, Shape
from bot.engine.recognize import Cues, Finding

# How many features `explain --why` names.
WHY_FEATURES = 6


@dataclass(frozen=True)
class Conversation:
    """What a way in knows of where a message was posted."""

    in_thread: bool = False
    # Whether the message's author started the thread (always true outside a thread).
    from_thread_starter: bool = True


# Where a message is when a way in says nothing of it: outside a thread (shared: it is frozen).
OUTSIDE_A_THREAD = Conversation()


@dataclass(frozen=True)
class Decision:
    decisive: Finding | None = None
    reply: bool = False
    # The reply model's probability that this is a report of the decisive error.
    probability: float = 0.0
    # A rule that decided instead of the model, in words; None when the model decided.
    rule: str | None = None
    # What the reply model read, kept to say why (`why`) only when someone asks.
    features: Mapping[str, float] = field(default_factory=dict)
    model: LinearModel | None = None

    @property
    def why(self) -> tuple[Contribution, ...]:
        """The features that pushed the reply decision most, strongest first."""
        if self.model is None:
            return ()
        contributions = self.model.contributions(self.features)
        return tuple(sorted(contributions, key=lambda c: -abs(c.push))[:WHY_FEATURES])


class Decider:
    def __init__(self, model: DecisionModel, reader: FeatureReader) -> None:
        self.model = model
        self.reader = reader

    def decide(
        self,
        findings: list[Finding],
        text: str,
        cues: Cues,
        asked: bool,
        conversation: Conversation | None = None,
    ) -> Decision:
        if not findings:
            return Decision()
        shape = self.reader.shape(text)
        decisive = self.decisive(findings, text, cues, shape)
        where = conversation or OUTSIDE_A_THREAD
        features = self.reader.reply_features(decisive, findings, text, shape, where.in_thread)
        probability = self.model.reply.probability(features)
        rule = _rule(decisive, asked, where)
        reply = rule is None and probability >= self.model.threshold
        return Decision(decisive, reply, probability, rule, features, self.model.reply)

    def decisive(self, findings: list[Finding], text: str, cues: Cues, shape: Shape) -> Finding:
        """The finding the rank model scores highest; the earlier one on a tie. A single
        finding is its own decisive: ranking it against nothing would only cost time."""
        if len(findings) == 1:
            return findings[0]
        return max(
            findings,
            key=lambda f: (
                self.model.rank.logit(self.reader.rank_features(f, findings, text, cues, shape)),
                -f.span[0],
            ),
        )


def _rule(decisive: Finding, asked: bool, conversation: Conversation) -> str | None:
    if asked:
        return "an explicit question is answered, not auto-replied"
    if not decisive.entry.is_failure:
        return "an informational reply needs no explanation"
    if conversation.in_thread and not conversation.from_thread_starter:
        return "in a thread, only its starter is answered unasked"
    return None
