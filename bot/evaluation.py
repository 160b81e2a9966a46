"""Scoring recognition on a labelled corpus (the format of shared/corpus/dev.jsonl)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.engine import Answer, Conversation, Engine


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    expect_reply: bool
    target: tuple[str, str] | None
    # The target and the other readings a label accepts as right (`any_of`).
    targets: frozenset[tuple[str, str]] = frozenset()
    # What the message is as a reader sees it (log, report, title, discussion, code, chat...).
    kind: str = ""
    # Where it was posted: the thread, for grouping cross-validation folds.
    source: str = ""

    @property
    def conversation(self) -> Conversation:
        """A source with a `#fragment` (a comment's anchor) answers inside its thread; without
        one, the message opened it. Whether the author started the thread is not recorded, so
        a comment counts as the starter's: the model weighs it, no rule silences it."""
        return Conversation(in_thread="#" in self.source)

    @classmethod
    def from_json(cls, item: object) -> Case:
        """The case a corpus line holds; TypeError, KeyError or ValueError for one that is not
        a labelled message (the loader names the line)."""
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise TypeError('not an object with a "text" string')
        target = item.get("target")
        key = (target["protocol"], str(target["code"])) if target else None
        accepted = {key} if key else set()
        accepted |= {(other["protocol"], str(other["code"])) for other in item.get("any_of") or ()}
        return cls(
            id=str(item.get("id", "")),
            text=item["text"],
            expect_reply=bool(item["expect_reply"]),
            target=key,
            targets=frozenset(accepted),
            kind=str(item.get("kind") or ""),
            source=str(item.get("source") or ""),
        )


@dataclass
class ReplyCounts:
    """Unasked replies counted against the labels: what recall and false replies are made of,
    for a plain run (`Report`) and a cross-validated one (`bot.training.Figures`) alike."""

    positives: int = 0
    negatives: int = 0
    true_replies: int = 0
    false_replies: int = 0

    def count_reply(self, expect_reply: bool, replied: bool) -> None:
        if expect_reply:
            self.positives += 1
            self.true_replies += replied
        else:
            self.negatives += 1
            self.false_replies += replied

    @property
    def reply_recall(self) -> float:
        return self.true_replies / self.positives if self.positives else 0.0

    @property
    def reply_precision(self) -> float:
        replies = self.true_replies + self.false_replies
        return self.true_replies / replies if replies else 1.0

    @property
    def false_reply_rate(self) -> float:
        return self.false_replies / self.negatives if self.negatives else 0.0


@dataclass
class Report(ReplyCounts):
    cases: int = 0
    decisive_right: int = 0
    found_anywhere: int = 0
    misses: list[tuple[Case, str]] = field(default_factory=list)
    by_kind: dict[str, Report] = field(default_factory=dict)

    @property
    def decisive_accuracy(self) -> float:
        return self.decisive_right / self.positives if self.positives else 0.0

    @property
    def found_rate(self) -> float:
        return self.found_anywhere / self.positives if self.positives else 0.0

    def render(self, max_misses: int = 20) -> str:
        lines = [
            f"cases: {self.cases} ({self.positives} need a reply, {self.negatives} do not)",
            f"decisive accuracy:        {self.decisive_accuracy:7.1%}",
            f"automatic reply recall:   {self.reply_recall:7.1%}",
            f"automatic reply precision:{self.reply_precision:7.1%}",
            f"false replies (negatives):{self.false_reply_rate:7.1%}",
            f"target found anywhere:    {self.found_rate:7.1%}",
        ]
        if len(self.by_kind) > 1:
            lines.append("\nby kind of message:   cases  decisive  recall  false replies")
            for kind, part in sorted(self.by_kind.items()):
                # A kind with no message wanting a reply (chat) has no decisive or recall.
                wanted = part.positives > 0
                decisive = f"{part.decisive_accuracy:>9.1%}" if wanted else f"{'-':>9}"
                recall = f"{part.reply_recall:>7.1%}" if wanted else f"{'-':>7}"
                unwanted = f"{part.false_reply_rate:>9.1%}" if part.negatives else f"{'-':>9}"
                lines.append(f"  {kind:<18} {part.cases:>6} {decisive} {recall} {unwanted}")
        if self.misses and max_misses:
            lines.append(f"\nmisses ({len(self.misses)}):")
            for case, why in self.misses[:max_misses]:
                snippet = " ".join(case.text.split())[:110]
                lines.append(f"  {case.id}: {why}\n      {snippet}")
        return "\n".join(lines)


class CorpusError(ValueError):
    """A labelled corpus cannot be read; the message names the file and the line, and `hint`
    (when there is one) says what to do instead."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


# The shared corpus of real messages is not in the repository: it sits in a folder `shared`
# beside the checkout. Every checkout has the project's own labelled sets.
SHARED_CORPUS = Path("..") / "shared" / "corpus" / "dev.jsonl"
OWN_CORPUS = Path("tests") / "corpus" / "holdout.jsonl"
MISSING_CORPUS_HINT = (
    f"The shared corpus is not in the repository: it is expected at {SHARED_CORPUS} from the "
    f"checkout's folder. Give the path of a corpus, e.g. errdesk eval {OWN_CORPUS}"
)


def load_cases(path: str | Path) -> list[Case]:
    try:
        with open(path, encoding="utf-8") as stream:
            lines = list(stream)
    except FileNotFoundError as error:
        message = f"{path}: cannot be read ({error.strerror})"
        raise CorpusError(message, MISSING_CORPUS_HINT) from error
    except OSError as error:
        raise CorpusError(f"{path}: cannot be read ({error.strerror})") from error
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cases.append(Case.from_json(json.loads(line)))
        except RecursionError as error:
            raise CorpusError(f"{path}: line {number}: JSON nested too deeply to read") from error
        except (ValueError, KeyError, TypeError) as error:
            raise CorpusError(
                f"{path}: line {number}: expected an object with text, expect_reply and "
                f"target ({type(error).__name__}: {error})"
            ) from error
    return cases


def evaluate(engine: Engine, cases: Iterable[Case]) -> Report:
    report = Report()
    for case in cases:
        answer = engine.explain(case.text, case.conversation)
        _score(report, case, answer)
    return report


def evaluate_file(engine: Engine, path: str | Path) -> Report:
    return evaluate(engine, load_cases(path))


def _score(report: Report, case: Case, answer: Answer) -> None:
    _count(report, case, answer)
    if case.kind:
        _count(report.by_kind.setdefault(case.kind, Report()), case, answer)


def _count(report: Report, case: Case, answer: Answer) -> None:
    report.cases += 1
    report.count_reply(case.expect_reply, answer.reply)
    got = answer.decisive.key if answer.decisive else None
    if not case.expect_reply:
        if answer.reply:
            report.misses.append((case, f"replied with {_label(got)} where no reply is wanted"))
        return
    readings = {f.entry.key for f in answer.findings} | {e.key for e in answer.alternatives}
    if got in case.targets:
        report.decisive_right += 1
    if case.targets & readings or got in case.targets:
        report.found_anywhere += 1
    if got not in case.targets or not answer.reply:
        reason = f"wanted {_label(case.target)}, got {_label(got)}"
        if not answer.reply:
            reason += f" (no reply, confidence {answer.confidence:.2f})"
        report.misses.append((case, reason))


def _label(key: tuple[str, str] | None) -> str:
    return f"{key[0]} {key[1]}" if key else "nothing"
