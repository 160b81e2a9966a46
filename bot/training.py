"""Fitting the decision model to labelled messages, and measuring it honestly.

`errdesk model train` fits both linear models (rank, reply) on every message given and
chooses the reply threshold by cross-validation; `errdesk model report` measures the whole
procedure by cross-validation grouped by source thread, refitting in each fold, so that two
excerpts of one thread never sit on both sides and no message is scored by a model that saw it.

scikit-learn is needed here only (the `train` extra); the running app never imports this module.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, groupby
from pathlib import Path
from typing import Any

from bot.engine import Engine
from bot.engine.decide import Decider
from bot.engine.model import (
    INTERACTION_FEATURE,
    RANK_FEATURES,
    REPLY_FEATURES,
    WORD_FEATURE,
    WORD_TOKEN,
    DecisionModel,
    LinearModel,
    Shape,
    feature_value,
)
from bot.engine.recognize import Cues, Finding
from bot.evaluation import Case, CorpusError, ReplyCounts, load_cases

# The reply threshold keeps false replies at or under this share of the messages that want
# none, on messages the model did not see: under the 5% a helpdesk tolerates, with a margin.
# Over eight reshufflings of the grouped folds, 4.5% gave 3.5% false replies on average and
# 4.9% at worst (4% gave 2.7% and 3.5%, and 2.8 points less recall): the margin the threshold
# needs, because it is chosen on less data than the model it serves is fitted on.
TARGET_FALSE_REPLIES = 0.045
# Folds of the cross-validations: five outer (the report), ten inner (the threshold). The
# threshold is read off models fitted on nine tenths of the training messages, near enough to
# the model it serves to score alike: on six reshufflings of the grouped folds, ten inner folds
# gave 68.0% recall at 4.1% false replies (4.9% at worst), three gave 64.9% at 3.6%, and twenty
# 68.5% at 4.3% but 5.2% at worst.
OUTER_FOLDS = 5
INNER_FOLDS = 10
# The fewest source threads each can cross-validate on: training's threshold needs two folds;
# the report needs two, each of whose training parts needs two again.
TRAINING_THREADS = 2
MEASURING_THREADS = 3
# Inverse regularization strength of both logistic regressions: small data, many features. On
# the same six reshufflings, with ten inner folds: 0.005 to 0.01 gave 68.3% recall, at 3.9% to
# 4.1% false replies; 0.02 68.0%, 0.035 66.8%, 0.05 65.2%.
REGULARIZATION_C = 0.01
# How much a message that wants a reply weighs in the reply model's fit, against one that wants
# none. The negatives scored near the threshold are mostly the corpus's judgement calls (HARD
# or UNCERTAIN in their notes: a PR title that reads like a report); weighed alike, the fit bends
# to them and the reports that read like talk fall under the threshold. On six reshufflings of
# the grouped folds: 1 gave 71.4% recall at 3.4% false replies (4.1% at worst), 76.9% at 5% on
# the pooled curve; 3 gave 72.2% at 3.7% (4.1%), 78.9%; 4 and 6 no more (78.9%, 78.6%, up to
# 4.6% at worst); weighing the other way (the classes balanced, negatives 1.3x) lost recall.
REPLY_POSITIVE_WEIGHT = 3.0
# The reply model is fitted twice: in the second fit, each message that wants a reply weighs
# also 1 + this x (1 - the probability the first fit gave it), so the reports the first fit
# scored low (the ones that read like talk) pull the weights towards what tells them from talk.
# On six reshufflings, beside REPLY_POSITIVE_WEIGHT: one fit gave 72.2% recall at 3.7% false
# replies (4.1% at worst), 70.9 / 78.9 / 87.9% at 3 / 5 / 10% on the pooled curve; 2 gave 73.0%;
# 4 73.2%; 8 73.6% at 3.8% (4.3%), 69.8 / 79.4 / 88.5%; 16 74.2%, but 69.1% at 3%. On six
# other reshufflings (seeds 6 to 11): one fit 73.6% at 3.9% (4.9%), 70.6 / 78.1 / 88.2%; 8 74.4%
# at 3.8% (4.3%), 71.4 / 79.2 / 89.1%. Weighing the negatives the first fit scored high more
# instead (tried with both classes weighing 1) lost recall: 69.1% at 1, 63.4% at 4.
REPLY_MISSED_WEIGHT = 8.0
# False-reply rates at which the report gives the recall, for the whole trade-off.
TRADE_OFF_POINTS = (0.03, 0.05, 0.10)
# A feature's variance at or under this is rounding error: the feature is constant.
CONSTANT_VARIANCE = 1e-12
# The logit of a model fitted to labels that all agree: a probability of 0.95 or 0.05.
CONSTANT_LOGIT = 3.0
# Features the reply model may also weigh two by two: the same words mean one thing in a title
# and another in a log, a question from the person stuck and one about a code. Each pair is a
# feature of its own ("x:question*first_person_meeting"), so the model stays linear and readable.
INTERACTING = (
    "question", "first_person_meeting", "help_words", "single_line", "in_log_line",
    "code_fence", "starts_with_change_verb", "discussion_near", "hypothetical_words",
    "project_words", "resolved_words", "confidence", "cjk", "advice_words",
    "sentence_first_person", "title_prefix", "log_lines",
)  # fmt: skip
# A word found in at least this many labelled messages is weighed on its own beside the
# vocabulary's discourse words (`errdesk model words` lists them): rarer ones are too few to
# learn from. On six reshufflings of the grouped folds, words of 20 of the 987 shared messages
# gave 72.4% recall at 5% false replies (69.2% without them; 30 gave 72.6%, 10 less). With ten
# inner folds and C 0.01, at the operating point: 20 gave 68.3%, 15 68.0%, 25 68.2%, 30 68.0%
# (5.4% false replies at worst), 10 64.9%.
FREQUENT_WORD_MESSAGES = 20
# A word as `frequent_words` counts it: a token of the model's (WordLists) made of letters.
_PLAIN_WORD = re.compile(r"[a-z][a-z']+")
# The model of an engine that only observes messages for training: it decides nothing.
UNTRAINED = DecisionModel(LinearModel(0.0, {}, {}, {}), LinearModel(0.0, {}, {}, {}), 0.5)


@dataclass
class Observed:
    """A labelled message as the engine sees it before deciding."""

    case: Case
    corpus: str
    text: str
    cues: Cues
    findings: list[Finding]
    shape: Shape

    @property
    def group(self) -> str:
        """The source thread: a comment's URL without its fragment."""
        return self.case.source.split("#", 1)[0] or self.case.id


def frequent_words(
    paths: Iterable[str | Path], min_messages: int = FREQUENT_WORD_MESSAGES
) -> list[str]:
    """The plain words found in at least `min_messages` of the messages, sorted: chosen by how
    often people write them, never by the messages' labels."""
    messages_with: Counter[str] = Counter()
    for path in paths:
        for case in load_cases(path):
            tokens = set(WORD_TOKEN.findall(case.text.lower()))
            messages_with.update(token for token in tokens if _PLAIN_WORD.fullmatch(token))
    return sorted(word for word, count in messages_with.items() if count >= min_messages)


def observe(engine: Engine, paths: Iterable[str | Path]) -> list[Observed]:
    observed = []
    for path in paths:
        corpus = Path(path).stem
        for case in load_cases(path):
            source, cues, findings = engine.observe(case.text, asked=False)
            shape = engine.features.shape(source.text)
            observed.append(Observed(case, corpus, source.text, cues, findings, shape))
    return observed


def _vector(features: dict[str, float], names: Sequence[str]) -> list[float]:
    return [feature_value(features, name) for name in names]


def _fit_linear(
    rows: list[dict[str, float]],
    labels: list[int],
    names: Sequence[str],
    positive_weight: float = 1.0,
    missed_weight: float = 0.0,
) -> LinearModel:
    """`positive_weight`: how much a row labelled 1 weighs in the fit against one labelled 0.
    `missed_weight`: above 0, a second fit where each row labelled 1 weighs also 1 + this x (1 -
    the probability the first fit gave it): see REPLY_MISSED_WEIGHT."""
    from sklearn.linear_model import LogisticRegression

    if len(set(labels)) < len((0, 1)):
        # One class only, or no row at all (a tiny corpus, or one where no target was found):
        # a constant model that says what every label said, and stays quiet without labels.
        return LinearModel(CONSTANT_LOGIT if labels and labels[0] else -CONSTANT_LOGIT, {}, {}, {})
    columns = list(zip(*(_vector(row, names) for row in rows), strict=True))
    means = {name: sum(column) / len(column) for name, column in zip(names, columns, strict=True)}
    scales = {}
    for name, column in zip(names, columns, strict=True):
        variance = sum((value - means[name]) ** 2 for value in column) / len(column)
        # A column that holds one value is constant, though its float variance may come out a
        # hair above zero: scaled by that, it would be rounded to a scale of 0 in the file.
        scales[name] = math.sqrt(variance) if variance > CONSTANT_VARIANCE else 1.0
    matrix = [
        [
            (value - means[name]) / scales[name]
            for name, value in zip(names, _vector(row, names), strict=True)
        ]
        for row in rows
    ]
    fitted = LogisticRegression(
        C=REGULARIZATION_C,
        max_iter=5000,
        solver="lbfgs",
        class_weight={0: 1.0, 1: positive_weight},
    )
    fitted.fit(matrix, labels)
    if missed_weight:
        first = fitted.predict_proba(matrix)[:, 1]
        emphasis = [
            1.0 + missed_weight * (1.0 - float(probability)) if label else 1.0
            for probability, label in zip(first, labels, strict=True)
        ]
        fitted.fit(matrix, labels, sample_weight=emphasis)
    rounded = (round(float(w), 6) for w in fitted.coef_[0])
    weights = {name: w for name, w in zip(names, rounded, strict=True) if w}
    return LinearModel(
        round(float(fitted.intercept_[0]), 6),
        weights,
        {name: round(means[name], 6) for name in weights},
        {name: round(scales[name], 6) for name in weights},
    )


_RANK_NAMES = tuple(sorted(RANK_FEATURES))
_REPLY_NAMES = tuple(sorted(REPLY_FEATURES))


def fit_rank(engine: Engine, items: Sequence[Observed]) -> LinearModel:
    rows, labels = [], []
    for item in items:
        targets = item.case.targets
        if not targets or not any(f.entry.key in targets for f in item.findings):
            continue  # nothing to learn about ranking where the target was not found at all
        for finding in item.findings:
            rows.append(
                engine.features.rank_features(
                    finding, item.findings, item.text, item.cues, item.shape
                )
            )
            labels.append(int(finding.entry.key in targets))
    return _fit_linear(rows, labels, _RANK_NAMES)


def _reply_rows(
    engine: Engine, rank: LinearModel, items: Sequence[Observed]
) -> list[tuple[Observed, Finding, dict[str, float]]]:
    """Each message the model decides on (one with a decisive failure), with its features."""
    decider = Decider(_model(rank, LinearModel(0.0, {}, {}, {}), 0.5), engine.features)
    rows = []
    for item in items:
        if not item.findings:
            continue
        decisive = decider.decisive(item.findings, item.text, item.cues, item.shape)
        if not decisive.entry.is_failure:
            continue  # a rule decides: an informational reply is never answered unasked
        features = engine.features.reply_features(
            decisive, item.findings, item.text, item.shape, item.case.conversation.in_thread
        )
        rows.append((item, decisive, features))
    return rows


def fit_reply(engine: Engine, rank: LinearModel, items: Sequence[Observed]) -> LinearModel:
    rows = _reply_rows(engine, rank, items)
    words = tuple(WORD_FEATURE + word for word in engine.features.discourse_words)
    pairs = tuple(
        f"{INTERACTION_FEATURE}{left}*{right}" for left, right in combinations(INTERACTING, 2)
    )
    return _fit_linear(
        [features for _, _, features in rows],
        [int(item.case.expect_reply) for item, _, _ in rows],
        _REPLY_NAMES + words + pairs,
        REPLY_POSITIVE_WEIGHT,
        REPLY_MISSED_WEIGHT,
    )


def _model(rank: LinearModel, reply: LinearModel, threshold: float) -> DecisionModel:
    return DecisionModel(rank, reply, threshold)


def _threads_enough(items: list[Observed], least: int, doing: str) -> list[Observed]:
    """The messages, when they come from enough source threads to cross-validate on."""
    threads = len({item.group for item in items})
    if threads < least:
        raise CorpusError(
            f"{doing} needs labelled messages from at least {least} source threads, "
            f"and these files hold {threads}",
            "each message's `source` names its thread; messages without one count one each",
        )
    return items


def _folds(
    items: Sequence[Observed], count: int, seed: int | None = None
) -> list[tuple[list[int], list[int]]]:
    """Folds that keep each source thread whole: without a `seed`, the fixed split (threads
    dealt by size); with one, the threads dealt at random, for figures that do not hang on
    where one split happens to cut."""
    from sklearn.model_selection import GroupKFold

    groups = [item.group for item in items]
    splitter = GroupKFold(
        n_splits=min(count, len(set(groups))), shuffle=seed is not None, random_state=seed
    )
    return [
        (list(train), list(test))
        for train, test in splitter.split(list(range(len(items))), groups=groups)
    ]


def choose_threshold(engine: Engine, items: Sequence[Observed], seed: int | None = None) -> float:
    """The lowest threshold whose false replies, out of fold, stay within the target."""
    scored: list[tuple[float, bool]] = []
    for train, test in _folds(items, INNER_FOLDS, seed):
        rank = fit_rank(engine, [items[i] for i in train])
        reply = fit_reply(engine, rank, [items[i] for i in train])
        for item, _, features in _reply_rows(engine, rank, [items[i] for i in test]):
            scored.append((reply.probability(features), item.case.expect_reply))
    negatives = sum(1 for item in items if not item.case.expect_reply)
    return threshold_for(scored, negatives, TARGET_FALSE_REPLIES)


def threshold_for(scored: list[tuple[float, bool]], negatives: int, false_rate: float) -> float:
    """The lowest probability to reply at that keeps false replies within `false_rate`.
    Messages scored alike are replied to alike, so they are counted together."""
    allowed = math.floor(false_rate * negatives)
    false_replies = 0
    threshold = 0.999
    by_score = groupby(sorted(scored, key=lambda pair: -pair[0]), key=lambda pair: pair[0])
    for probability, alike in by_score:
        false_replies += sum(1 for _, positive in alike if not positive)
        if false_replies > allowed:
            break
        threshold = probability
    return min(max(round(threshold, 6), 0.01), 0.999)


def train(engine: Engine, paths: Sequence[str | Path]) -> DecisionModel:
    """Fit on every message given; the threshold comes from cross-validation on them."""
    items = _threads_enough(observe(engine, paths), TRAINING_THREADS, "training")
    rank = fit_rank(engine, items)
    reply = fit_reply(engine, rank, items)
    threshold = choose_threshold(engine, items)
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[item.corpus] += 1
    trained_on = {
        "corpora": dict(sorted(counts.items())),
        "messages": len(items),
        "target_false_replies": TARGET_FALSE_REPLIES,
        "regularization_c": REGULARIZATION_C,
        "reply_positive_weight": REPLY_POSITIVE_WEIGHT,
        "reply_missed_weight": REPLY_MISSED_WEIGHT,
    }
    return DecisionModel(rank, reply, threshold, trained_on)


# ---------------------------------------------------------------- the report


@dataclass
class Outcome:
    """One message's out-of-fold decision."""

    item: Observed
    decisive: tuple[str, str] | None
    probability: float
    reply: bool


@dataclass
class Figures(ReplyCounts):
    messages: int = 0
    with_target: int = 0
    decisive_right: int = 0

    def add(self, outcome: Outcome) -> None:
        case = outcome.item.case
        self.messages += 1
        self.count_reply(case.expect_reply, outcome.reply)
        if case.targets:
            self.with_target += 1
            self.decisive_right += outcome.decisive in case.targets

    @property
    def decisive_accuracy(self) -> float:
        """Over every message with a target: a log labelled with its error but wanting no
        reply counts too."""
        return self.decisive_right / self.with_target if self.with_target else 1.0

    def row(self, label: str) -> str:
        """A share with nothing to count ("chat": no message wants a reply) shows as "-"."""
        decisive = _share(self.decisive_accuracy, self.with_target)
        recall = _share(self.reply_recall, self.positives)
        false_replies = _share(self.false_reply_rate, self.negatives)
        return f"{label:<14} {self.messages:>5} {decisive:>9} {recall:>8} {false_replies:>9}"


def _share(value: float, counted: int) -> str:
    return f"{value:.1%}" if counted else "-"


@dataclass
class Report:
    outcomes: list[Outcome]
    thresholds: list[float]
    trade_off: dict[float, float] = field(default_factory=dict)

    def figures(self, keep: Any = None) -> Figures:
        figures = Figures()
        for outcome in self.outcomes:
            if keep is None or keep(outcome):
                figures.add(outcome)
        return figures

    def render(self) -> str:
        header = f"{'':<14} {'msgs':>5} {'decisive':>9} {'recall':>8} {'false rep':>9}"
        lines = [
            f"cross-validated, {OUTER_FOLDS} folds grouped by source thread, refitted in each fold",
            "reply thresholds chosen in the folds: "
            + ", ".join(f"{threshold:.3f}" for threshold in self.thresholds),
            "",
            header,
            self.figures().row("all"),
            "",
            "by corpus:",
        ]
        for corpus in sorted({o.item.corpus for o in self.outcomes}):
            lines.append(self.figures(lambda o, c=corpus: o.item.corpus == c).row(corpus))
        lines += ["", "by kind of message:"]
        for kind in sorted({o.item.case.kind for o in self.outcomes}):
            lines.append(self.figures(lambda o, k=kind: o.item.case.kind == k).row(kind or "-"))
        lines += ["", "trade-off (recall at a false-reply rate, pooled out-of-fold scores):"]
        lines += [
            f"  {rate:>4.0%} false replies: recall {self.trade_off[rate]:.1%}"
            for rate in TRADE_OFF_POINTS
        ]
        return "\n".join(lines)


def cross_validate(engine: Engine, paths: Sequence[str | Path]) -> Report:
    """The cross-validation on the fixed split."""
    return reshuffled(engine, paths, 1).reports[0]


def reshuffled(engine: Engine, paths: Sequence[str | Path], splits: int) -> Reshuffled:
    """The cross-validation on the fixed split, then on `splits - 1` reshuffled ones (seeds 1,
    2, ...): a change is better when it is better on average, not on one split's cut."""
    items = _threads_enough(observe(engine, paths), MEASURING_THREADS, "the report")
    seeds: list[int | None] = [None, *range(1, splits)]
    return Reshuffled([_cross_validated(engine, items, seed) for seed in seeds])


def _cross_validated(engine: Engine, items: Sequence[Observed], seed: int | None = None) -> Report:
    outcomes: list[Outcome] = []
    thresholds = []
    pooled: list[tuple[float, bool]] = []
    for train_indices, test_indices in _folds(items, OUTER_FOLDS, seed):
        train_items = [items[i] for i in train_indices]
        rank = fit_rank(engine, train_items)
        reply = fit_reply(engine, rank, train_items)
        threshold = choose_threshold(engine, train_items, seed)
        thresholds.append(threshold)
        decider = Decider(DecisionModel(rank, reply, threshold), engine.features)
        outcomes += _decided(decider, [items[i] for i in test_indices], pooled)
    return Report(outcomes, thresholds, _trade_off(pooled, items))


def _decided(
    decider: Decider, tested: Sequence[Observed], pooled: list[tuple[float, bool]]
) -> list[Outcome]:
    """Each held-out message's decision; the model's score of those it decides on (no rule
    did) is added to `pooled`, with whether the message wants a reply."""
    outcomes = []
    for item in tested:
        conversation = item.case.conversation
        decision = decider.decide(item.findings, item.text, item.cues, False, conversation)
        key = decision.decisive.entry.key if decision.decisive else None
        outcomes.append(Outcome(item, key, decision.probability, decision.reply))
        if decision.decisive is not None and decision.rule is None:
            pooled.append((decision.probability, item.case.expect_reply))
    return outcomes


def _trade_off(pooled: list[tuple[float, bool]], items: Sequence[Observed]) -> dict[float, float]:
    """The recall at each false-reply rate of TRADE_OFF_POINTS, over all the messages: one
    that wants a reply and got no score (nothing found, or a rule decided) is a miss."""
    positives = sum(1 for item in items if item.case.expect_reply)
    negatives = len(items) - positives
    trade_off = {}
    for rate in TRADE_OFF_POINTS:
        cut = threshold_for(pooled, negatives, rate)
        replied = sum(1 for probability, positive in pooled if positive and probability >= cut)
        trade_off[rate] = replied / max(positives, 1)
    return trade_off


@dataclass
class Reshuffled:
    """Cross-validations of the same messages on several splits, the fixed one first."""

    reports: list[Report]

    def render(self) -> str:
        points = "".join(f"{f'@{rate:.0%}':>7}" for rate in TRADE_OFF_POINTS)
        lines = [
            f"over {len(self.reports)} splits of the grouped folds: the fixed split, then "
            f"{len(self.reports) - 1} with the threads dealt at random",
            "",
            f"{'split':<14} {'decisive':>9} {'recall':>8} {'false rep':>9}{points}",
        ]
        rows = []
        for number, report in enumerate(self.reports):
            figures = report.figures()
            row = (
                figures.decisive_accuracy,
                figures.reply_recall,
                figures.false_reply_rate,
                *(report.trade_off[rate] for rate in TRADE_OFF_POINTS),
            )
            rows.append(row)
            lines.append(_reshuffled_row("fixed" if number == 0 else f"seed {number}", row))
        means = tuple(sum(column) / len(column) for column in zip(*rows, strict=True))
        lines += [
            _reshuffled_row("mean", means),
            "",
            f"false replies at worst: {max(row[2] for row in rows):.1%}",
        ]
        return "\n".join(lines)


def _reshuffled_row(label: str, row: Sequence[float]) -> str:
    decisive, recall, false_replies, *trade_off = row
    points = "".join(f"{share:>7.1%}" for share in trade_off)
    return f"{label:<14} {decisive:>9.1%} {recall:>8.1%} {false_replies:>9.1%}{points}"


# ---------------------------------------------------------------- the learning curve

# The shares of each fold's training threads the curve fits on: a quarter up to all of them.
CURVE_SHARES = (0.25, 0.5, 0.75, 1.0)
# How each fold's training threads are dealt before a share is taken: one fixed order, so the
# curve is reproducible and a larger share holds every thread of a smaller one.
CURVE_SEED = 0


@dataclass
class CurvePoint:
    share: float
    # Messages trained on, on average over the folds and splits.
    messages: float
    trade_off: dict[float, float]


@dataclass
class LearningCurve:
    """What more labelled messages would buy: recall at each false-reply rate, out of fold,
    for models fitted on a growing share of the same training threads. A curve still climbing
    at its last point says more labels would lift it further; a flat one, that the labels or
    the features have given what they hold."""

    points: list[CurvePoint]
    splits: int

    def render(self) -> str:
        points = "".join(f"{f'@{rate:.0%}':>7}" for rate in TRADE_OFF_POINTS)
        lines = [
            "learning curve: models fitted on a share of each fold's training threads, scored "
            f"on the held-out folds; the mean of {self.splits} split(s) of the grouped folds",
            "",
            f"{'share':>6} {'messages':>9}{points}",
        ]
        for point in self.points:
            recall = "".join(f"{point.trade_off[rate]:>7.1%}" for rate in TRADE_OFF_POINTS)
            lines.append(f"{point.share:>6.0%} {point.messages:>9.0f}{recall}")
        return "\n".join(lines)


def learning_curve(engine: Engine, paths: Sequence[str | Path], splits: int) -> LearningCurve:
    """The recall of models fitted on each of CURVE_SHARES of the training threads of every
    fold, on `splits` splits; the figures of a share are the mean over the splits of each
    split's pooled trade-off. No threshold is chosen: the trade-off needs none."""
    items = _threads_enough(observe(engine, paths), MEASURING_THREADS, "the learning curve")
    seeds: list[int | None] = [None, *range(1, splits)]
    points = []
    for share in CURVE_SHARES:
        curves, trained = [], []
        for seed in seeds:
            pooled: list[tuple[float, bool]] = []
            for train_indices, test_indices in _folds(items, OUTER_FOLDS, seed):
                train_items = _share_of_threads([items[i] for i in train_indices], share)
                trained.append(len(train_items))
                rank = fit_rank(engine, train_items)
                reply = fit_reply(engine, rank, train_items)
                decider = Decider(_model(rank, reply, UNTRAINED.threshold), engine.features)
                _decided(decider, [items[i] for i in test_indices], pooled)
            curves.append(_trade_off(pooled, items))
        mean = {rate: sum(c[rate] for c in curves) / len(curves) for rate in TRADE_OFF_POINTS}
        points.append(CurvePoint(share, sum(trained) / len(trained), mean))
    return LearningCurve(points, splits)


def _share_of_threads(items: list[Observed], share: float) -> list[Observed]:
    """The messages of `share` of the threads (at least TRAINING_THREADS of them), the threads
    dealt in CURVE_SEED's order."""
    threads = sorted({item.group for item in items})
    random.Random(CURVE_SEED).shuffle(threads)
    kept = set(threads[: max(TRAINING_THREADS, round(share * len(threads)))])
    return [item for item in items if item.group in kept]
