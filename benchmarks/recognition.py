"""Recognition: time per message and answer quality, errdesk beside the two naive peers.

Two sets of messages: short chat lines (below, errors and chit-chat mixed, as a helpdesk
channel reads) and the labelled development corpus (real posts, some with whole logs). Every
message is timed on its own, many times in shuffled order, after a warm-up pass; the median
and p99 are over all those calls. Quality comes from `bot.evaluation` with its own definitions,
for the peers too, so the figures beside the times mean the same thing for all three.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from benchmarks.common import (
    DEV_CORPUS,
    SKIP,
    Row,
    duration,
    judged,
    median,
    percentile,
    ratio,
    safe_ratio,
    share,
)
from benchmarks.naive import FirstCodePeer, FuzzyTitlePeer
from bot.engine import Answer, Engine, KnowledgeBase, load_knowledge
from bot.engine.decide import Conversation, Decider, Decision
from bot.engine.recognize import Cues, Finding
from bot.evaluation import Report, evaluate, load_cases

if TYPE_CHECKING:
    from bot.evaluation import Case

PART = "recognition"
CHAT_MEDIAN_TARGET = 100e-6
SPEEDUP_TARGET = 5.0
# "Far more accurate": this many points more decisive accuracy, and no more false replies.
ACCURACY_MARGIN = 0.20
# The learned decision may add at most this much to the per-message median of explaining (the
# issue's bound on what the model's features and inference cost).
DECISION_SHARE_TARGET = 1.20
# The knowledge grew from four protocols to nine (three times the wordings): recognition on all
# of it may take at most this much of what it takes on the four first ones.
KNOWLEDGE_GROWTH_TARGET = 1.20
FIRST_PROTOCOLS = ("ftp", "sftp", "http", "winsock")

# (text, is an error someone needs explained). Written for this benchmark: the way people
# write in a support channel, not wordings copied from the knowledge files.
CHAT_LINES: tuple[tuple[str, bool], ...] = (
    ("getting 550 when I upload to the server", True),
    ("FileZilla says: 425 Can't open data connection.", True),
    ("Error: Connection timed out after 20 seconds of inactivity", True),
    ("sftp keeps failing with Permission denied on /var/www/uploads", True),
    ("upload fails with 553 Could not create file.", True),
    ("530 Login incorrect. but the password is right??", True),
    ("curl: (22) The requested URL returned error: 403", True),
    ("WinSCP just says Connection refused, any idea?", True),
    ("getting WSAECONNRESET from our nightly upload script", True),
    ("socket error 10054 every few minutes since monday", True),
    ("nginx gives 413 Request Entity Too Large on big files", True),
    ("HTTP 502 Bad Gateway from the webdav endpoint again", True),
    ("server replied 421 Too many connections (8) from this IP", True),
    ("connect ECONNREFUSED 10.0.0.12:21 when the job starts", True),
    ("paramiko raises SSH_FX_NO_SUCH_FILE on the rename", True),
    ("Response: 451 Requested action aborted: local error in processing", True),
    ("ftplib.error_perm: 550 Failed to change directory.", True),
    ("[Errno 111] Connection refused", True),
    ("552 Disk quota exceeded when uploading the backups", True),
    ("the PUT returns 401 Unauthorized since the password change", True),
    ("503 Service Unavailable on the upload API, is it down?", True),
    ("getting SSH_FX_FAILURE when renaming files on the sftp box", True),
    ("Error 426 Connection closed; transfer aborted. halfway through every big file", True),
    ("our client logs 'Network error: Software caused connection abort'", True),
    ("500 Illegal PORT command when I switch to active mode", True),
    ("MLSD fails with 425 Unable to build data connection: Connection refused", True),
    ("hi all, anyone around?", False),
    ("thanks, that fixed it!", False),
    ("deploying the new build at 3pm", False),
    ("can someone review PR 512 please", False),
    ("lunch?", False),
    ("I uploaded 250 files last night, all good", False),
    ("port 2222 is open now on the new box", False),
    ("ok will try passive mode", False),
    ("version 3.67.0 is out, release notes in the wiki", False),
    ("who owns the ftp server in staging?", False),
    ("cool, works now", False),
    ("restarted the service, please retry", False),
    ("see ticket 4512 for the details", False),
    ("brb", False),
    ("our SLA is 99.9% this quarter", False),
    ("great, the nightly sync finished in 12 minutes", False),
    ("can you share the WinSCP log?", False),
    ("I'll check the firewall rules tomorrow", False),
    ("merged, thanks!", False),
    ("which host do we use for sftp uploads?", False),
    ("there are 300 users on the new server", False),
    ("good morning :wave:", False),
    ("happy friday everyone", False),
    ("moved the share to /data/200 like you asked", False),
)


@dataclass(frozen=True)
class Contender:
    name: str
    explain: Callable[[str], Answer]


@dataclass(frozen=True)
class Timing:
    median: float
    p99: float
    samples: int


def contenders(kb: KnowledgeBase) -> list[Contender]:
    """errdesk first: every ratio is a peer's time over errdesk's."""
    engine = Engine(kb)
    return [
        Contender("errdesk", engine.explain),
        Contender(FirstCodePeer.name, FirstCodePeer(kb).explain),
        Contender(FuzzyTitlePeer.name, FuzzyTitlePeer(kb).explain),
    ]


def time_messages(
    explain: Callable[[str], Answer], texts: Sequence[str], passes: int, seed: int = 6
) -> Timing:
    """Each message timed alone, `passes` times in shuffled order, after one warm-up pass."""
    for text in texts:
        explain(text)
    order = list(texts)
    shuffle = random.Random(seed).shuffle
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(passes):
        shuffle(order)
        for text in order:
            started = clock()
            explain(text)
            samples.append((clock() - started) / 1e9)
    return Timing(median(samples), percentile(samples, 99), len(samples))


def score(contender: Contender, cases: Sequence[Case]) -> Report:
    """bot.evaluation's scoring; it only calls `explain`, so a peer passes as an engine."""
    return evaluate(cast(Engine, contender), cases)


def run(quick: bool = False, corpus: Path = DEV_CORPUS) -> list[Row]:
    kb = load_knowledge()
    everyone = contenders(kb)
    rows: list[Row] = []
    chat_passes = 3 if quick else 40
    rows += _timing_rows(
        f"chat x{len(CHAT_LINES)}",
        everyone,
        [text for text, _ in CHAT_LINES],
        chat_passes,
        median_target=True,
    )
    rows += _chat_reply_rows(everyone)
    rows += _cost_rows(kb, [text for text, _ in CHAT_LINES], chat_passes)
    if not corpus.is_file():
        rows.append(
            Row(PART, "dev corpus", "skipped", f"{corpus} not found", "", SKIP),
        )
        return rows
    cases = load_cases(corpus)
    if quick:
        cases = cases[:12]
    subject = f"dev corpus x{len(cases)}"
    rows += _timing_rows(
        subject, everyone, [case.text for case in cases], 2 if quick else 15, median_target=False
    )
    rows += _quality_rows(subject, everyone, cases)
    rows.append(_corpus_cost_row(subject, kb, cases, 2 if quick else 15))
    return rows


def _timing_rows(
    subject: str,
    everyone: list[Contender],
    texts: list[str],
    passes: int,
    median_target: bool,
) -> list[Row]:
    timings = {c.name: time_messages(c.explain, texts, passes) for c in everyone}
    ours = timings["errdesk"]
    rows = [
        Row(
            PART,
            f"{subject}: errdesk",
            "median / p99 per message",
            f"{duration(ours.median)} / {duration(ours.p99)}",
            "median <= 100 µs" if median_target else "",
            judged(ours.median <= CHAT_MEDIAN_TARGET) if median_target else "",
        )
    ]
    for contender in everyone[1:]:
        timing = timings[contender.name]
        rows.append(
            Row(
                PART,
                f"{subject}: {contender.name}",
                "median / p99 per message",
                f"{duration(timing.median)} / {duration(timing.p99)}",
            )
        )
    for contender in everyone[1:]:
        timing = timings[contender.name]
        speedup = safe_ratio(timing.median, ours.median)
        fuzzy = contender.name == FuzzyTitlePeer.name
        rows.append(
            Row(
                PART,
                f"{subject}: {contender.name} / errdesk",
                "time ratio, median (p99)",
                f"{ratio(speedup)} ({ratio(safe_ratio(timing.p99, ours.p99))})",
                ">= 5x" if fuzzy else "",
                judged(speedup >= SPEEDUP_TARGET) if fuzzy else "",
            )
        )
    return rows


def paired_ratios(
    measured: Callable[[str], object],
    baseline: Callable[[str], object],
    texts: Sequence[str],
    passes: int,
    seed: int = 6,
) -> list[float]:
    """Each message's median time under `measured` over its median under `baseline`, the two
    timed one right after the other (in turn first) in every pass: a ratio of one message with
    itself, which a busy machine slows on both sides alike. Two medians over all messages would
    not do: with half the chat lines holding nothing to decide, the median message sits
    between the two halves and jumps from one to the other from run to run."""
    for text in texts:
        measured(text), baseline(text)
    order = list(range(len(texts)))
    shuffle = random.Random(seed).shuffle
    clock = time.perf_counter_ns
    samples: list[tuple[list[int], list[int]]] = [([], []) for _ in texts]
    for number in range(passes):
        shuffle(order)
        for index in order:
            pair = (measured, baseline) if number % 2 else (baseline, measured)
            for call in pair:
                started = clock()
                call(texts[index])
                took = clock() - started
                samples[index][0 if call is measured else 1].append(took)
    return [safe_ratio(median(ours), median(theirs)) for ours, theirs in samples]


def _cost_rows(kb: KnowledgeBase, texts: list[str], passes: int) -> list[Row]:
    """In the same run: what the decision (model features and inference) adds to explaining a
    message it decides on, set against the same engine deciding by a rule; what the decision
    and the answer's building together add to reading and recognizing; and what the five new
    protocols' knowledge adds to recognition."""
    engine = Engine(kb)
    decided = [text for text in texts if _observed(engine, text).findings]
    decision = _decision_cost(engine, decided, passes)
    after_recognition = (
        median(paired_ratios(engine.explain, lambda text: _observed(engine, text), decided, passes))
        if decided
        else 1.0  # nothing to decide, nothing the decision adds
    )
    first = KnowledgeBase(entry for entry in kb if entry.protocol in FIRST_PROTOCOLS)
    smaller = Engine(first, engine.vocabulary, engine.model)
    growth = median(
        paired_ratios(
            lambda text: _observed(engine, text),
            lambda text: _observed(smaller, text),
            texts,
            passes,
        )
    )
    lines = f"the {len(decided)} lines with something to decide"
    return [
        Row(
            PART,
            f"chat: explain / explain deciding by a rule (first finding; a failure replied), "
            f"{lines}",
            "time ratio, median of each line's (the decision's cost)",
            ratio(decision),
            f"<= {DECISION_SHARE_TARGET}x",
            judged(decision <= DECISION_SHARE_TARGET),
        ),
        Row(
            PART,
            f"chat: explain / read, triage and recognize only, {lines}",
            "time ratio, median of each line's (deciding and building the answer)",
            ratio(after_recognition),
        ),
        Row(
            PART,
            f"chat: recognition with {len(kb)} entries / with the first four protocols' "
            f"{len(first)}",
            "time ratio, median of each line's",
            ratio(growth),
            f"<= {KNOWLEDGE_GROWTH_TARGET}x",
            judged(growth <= KNOWLEDGE_GROWTH_TARGET),
        ),
    ]


def _decision_cost(engine: Engine, texts: list[str], passes: int) -> float:
    """The median of each message's explain time over its time with a rule's decision."""
    if not texts:
        return 1.0  # nothing to decide, nothing the decision adds
    ruled = Engine(engine.kb, engine.vocabulary, engine.model)
    ruled.decider = RuleDecider(engine.model, engine.decider.reader)
    return median(paired_ratios(engine.explain, ruled.explain, texts, passes))


def _corpus_cost_row(subject: str, kb: KnowledgeBase, cases: list[Case], passes: int) -> Row:
    """The decision's cost on real messages: long logs and short titles, as people post them."""
    engine = Engine(kb)
    decided = [case.text for case in cases if _observed(engine, case.text).findings]
    return Row(
        PART,
        f"{subject}: explain / explain deciding by a rule, the {len(decided)} messages with "
        "something to decide",
        "time ratio, median of each message's (the decision's cost)",
        ratio(_decision_cost(engine, decided, passes)),
    )


class RuleDecider(Decider):
    """The decision without its model, as a rule would make it: the first finding is the
    decisive one, and a failure is replied to unless someone asked. Beside the learned
    decision, the rest of `explain` (reading, recognizing, building the answer) is the same
    work, so the two times differ by what the model's features and inference cost."""

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
        decisive = findings[0]
        return Decision(decisive, reply=not asked and decisive.entry.is_failure)


def _observed(engine: Engine, text: str) -> Answer:
    """Read, triage and recognize, without deciding or building an answer."""
    source, _, findings = engine.observe(text, asked=False)
    return Answer(query=source.text, source=source, findings=tuple(findings))


def _chat_reply_rows(everyone: list[Contender]) -> list[Row]:
    """Unlabelled beyond error or not: how often each one speaks up, where it should or not."""
    errors = [text for text, is_error in CHAT_LINES if is_error]
    chatter = [text for text, is_error in CHAT_LINES if not is_error]
    rows = []
    for contender in everyone:
        on_errors = sum(contender.explain(text).reply for text in errors)
        on_chatter = sum(contender.explain(text).reply for text in chatter)
        rows.append(
            Row(
                PART,
                f"chat x{len(CHAT_LINES)}: {contender.name}",
                "replies to errors / to chit-chat",
                f"{on_errors}/{len(errors)} / {on_chatter}/{len(chatter)}",
            )
        )
    return rows


def _quality_rows(subject: str, everyone: list[Contender], cases: list[Case]) -> list[Row]:
    reports = {c.name: score(c, cases) for c in everyone}
    rows = []
    for contender in everyone:
        report = reports[contender.name]
        rows.append(
            Row(
                PART,
                f"{subject}: {contender.name}",
                "decisive accuracy / false replies",
                f"{share(report.decisive_accuracy)} / {share(report.false_reply_rate)}",
            )
        )
        rows.append(
            Row(
                PART,
                f"{subject}: {contender.name}",
                "reply recall / precision",
                f"{share(report.reply_recall)} / {share(report.reply_precision)}",
            )
        )
    ours, fuzzy = reports["errdesk"], reports[FuzzyTitlePeer.name]
    margin = ours.decisive_accuracy - fuzzy.decisive_accuracy
    rows.append(
        Row(
            PART,
            f"{subject}: errdesk vs {FuzzyTitlePeer.name}",
            "decisive accuracy gain, false replies",
            f"{margin * 100:+.1f} points, "
            f"{share(ours.false_reply_rate)} vs {share(fuzzy.false_reply_rate)}",
            ">= +20 points, no more",
            judged(margin >= ACCURACY_MARGIN and ours.false_reply_rate <= fuzzy.false_reply_rate),
        )
    )
    return rows
