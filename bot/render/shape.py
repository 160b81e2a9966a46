"""What a reader sees of an answer first, shared by Slack and the terminal.

An answer is read to the end when it is short: the meaning, who can fix it and what decided
that, and at most three steps, the situation's own first (only those where the situation changed
who can fix it).
The other steps and the codes worth reading next wait behind "More steps" in Slack and `--full`
in the terminal. Other readings are offered only where the reading is open; what triage saw is
stated only from log lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine import Answer, Entry, Finding
from bot.engine.triage import FailureContext

# How many steps an answer shows before "More steps".
FIRST_STEPS = 3
# How much weaker than the decisive error another failure in the text may be and still be
# offered as a reading of its own.
SIMILAR_STRENGTH = 0.15


@dataclass(frozen=True)
class Outline:
    """The parts of an answer a renderer lays out, in reading order."""

    steps: tuple[str, ...]
    # How many of `steps`, from the first, are the situation's own.
    own_steps: int
    # Steps left for "More steps" or `--full`.
    hidden_steps: int
    because: str | None
    seen: str
    alternatives: tuple[Entry, ...]
    related: tuple[Entry, ...]


def outline(answer: Answer, *, full: bool = False) -> Outline:
    """The short answer, or with `full` everything: every step and the related codes."""
    steps = _distinct(answer.steps)
    own = set(answer.context_advice)
    # Where the situation changed who can fix it, the general steps may not fit it: they wait.
    first = [step for step in steps if step in own] if answer.because else list(steps)
    first = first or list(steps)
    shown = steps if full else tuple(first[:FIRST_STEPS])
    hidden = len(steps) - len(shown)
    return Outline(
        steps=shown,
        own_steps=sum(1 for step in shown if step in own),
        hidden_steps=hidden,
        because=answer.because if answer.decisive is not None else None,
        seen=seen_note(answer.failure),
        alternatives=open_readings(answer),
        related=answer.related if full or not hidden else (),
    )


def seen_note(failure: FailureContext) -> str:
    """What triage saw on log lines around the failure: "after STOR, in passive mode, over TLS".

    A command, a mode or TLS named only in a sentence ("the site is down", "I use passive mode")
    is the person's account, not something seen: it is not stated back as seen."""
    parts = []
    if failure.command and failure.command_from_log:
        parts.append(f"after {failure.command}")
    if failure.mode and failure.mode_from_log:
        parts.append(f"in {failure.mode} mode")
    if failure.tls and failure.tls_from_log:
        parts.append("over TLS")
    return ", ".join(parts)


def open_readings(answer: Answer) -> tuple[Entry, ...]:
    """The other readings worth offering: the same code in another protocol when nothing in the
    text chose between them, or another failure about as strong as the decisive one. Never a
    step of a normal exchange (331, 227) beside a failure."""
    decisive = _finding_of(answer, answer.decisive)
    if decisive is None:
        return ()
    readings = {entry.key for entry in decisive.readings}
    offered = []
    for other in answer.alternatives:
        if not other.is_failure:
            continue
        if other.key in readings:
            if not decisive.reading_settled:
                offered.append(other)
            continue
        found = _finding_of(answer, other)
        if found is not None and found.confidence >= decisive.confidence - SIMILAR_STRENGTH:
            offered.append(other)
    return tuple(offered)


def _finding_of(answer: Answer, entry: Entry | None) -> Finding | None:
    if entry is None:
        return None
    return max(
        (finding for finding in answer.findings if finding.entry.key == entry.key),
        key=lambda finding: finding.confidence,
        default=None,
    )


def _distinct(steps: tuple[str, ...]) -> tuple[str, ...]:
    """Steps without repeats that differ only in case, spacing or the final stop."""
    seen: set[str] = set()
    kept = []
    for step in steps:
        key = " ".join(step.casefold().split()).rstrip(".!")
        if key not in seen:
            seen.add(key)
            kept.append(step)
    return tuple(kept)
