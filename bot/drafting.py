"""A draft of a site's own labelled messages, drawn from errdesk's JSON log.

The decision's recall is short of labels, not of features (`errdesk model curve`), and the
labels a site most needs are in its own channel's use of errdesk: a message someone asked about
after the auto-reply stayed quiet is most often a report it missed, and a reply voted "Not it"
most often one it should not have made. The log names them, never by their text
(`errdesk.decision` and `errdesk.feedback` lines); `errdesk model draft` reads those messages
again from Slack and writes them in the corpus format, each with the label its log suggests and
a note saying where it came from, for a person to check before training on them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TextIO

from slack_sdk.web import WebClient

from bot.config import Settings
from bot.engine.secrets import mask
from bot.listeners.messages import read_again
from bot.listeners.slack_calls import call
from bot.render.blocks import Explained

DECISION_LOGGER = "errdesk.decision"
FEEDBACK_LOGGER = "errdesk.feedback"
# Said in every drafted label's note: a suggestion drawn from use, not a person's judgement yet.
DRAFT_NOTE = "DRAFT from errdesk's log, check the label"
# Slack's answers for a message that is no longer there: the message, or its thread, deleted.
GONE = ("message_not_found", "thread_not_found")
# The fields a decision's line names its message by, and a vote's line the message its reply
# explained: without them (a line from an older errdesk, or edited by hand) it names none.
NAMING_FIELDS = ("channel", "ts", "thread_ts", "entry")

# What each label was drawn from, in its note.
MISSED = "asked about after the auto-reply stayed quiet: a report it missed?"
VOTED_HELPFUL = "its reply voted Helpful {0} to {1}"
VOTED_NOT_IT = "its reply voted Not it {1} to {0}: no reply wanted, or the wrong code?"


@dataclass(frozen=True)
class DraftLabel:
    channel: str
    thread_ts: str
    # The code the decision read, "ftp 425": the target of a label that wants a reply.
    entry: str
    ts: str
    expect_reply: bool
    # What the label was drawn from, in words.
    drawn_from: str


@dataclass
class Drafted:
    """What a log gave: the labels, and what was passed over and why, for the summary."""

    labels: list[DraftLabel]
    # errdesk's own decision and vote lines read: none means a log in the text format.
    lines_read: int = 0
    unnamed_lines: int = 0
    tied_votes: int = 0
    unmatched_votes: int = 0
    # Messages whose votes were on more than one reply (the auto-reply's, and a mention's on
    # the same message): which tally judged the unasked reply is not known.
    several_replies: int = 0


@dataclass
class Written:
    """What writing the draft gave: labels written, messages gone, and Slack's refusals."""

    labels: int = 0
    wanting_reply: int = 0
    gone: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Named:
    """A decision or vote line's message: where it is and the code it was about."""

    channel: str
    thread_ts: str
    entry: str
    ts: str


def labels_from_log(lines: Iterable[str]) -> Drafted:
    """The labels the log's lines suggest, one a message: messages asked about after the
    auto-reply stayed quiet, and replies whose votes lean one way, each joined to the decision
    that made the reply by the message both lines name. Other lines are skipped: a log holds
    much else."""
    replied: dict[tuple[str, str], _Named] = {}
    # The votes on each message's replies: the last tally of each reply, by the reply's ts.
    votes: dict[tuple[str, str], dict[str, tuple[_Named, dict[str, Any]]]] = {}
    labels: dict[tuple[str, str], DraftLabel] = {}
    drafted = Drafted([])
    for record in filter(None, map(_record, lines)):
        logger = record.get("logger")
        if logger not in (DECISION_LOGGER, FEEDBACK_LOGGER):
            continue
        drafted.lines_read += 1
        named = _named(record)
        if named is None:
            drafted.unnamed_lines += 1
        elif logger == FEEDBACK_LOGGER:
            tally = record.get("votes")  # each line holds the tally so far: the last one counts
            on_reply = str(record.get("reply_ts") or "")
            tallies = votes.setdefault((named.channel, named.ts), {})
            tallies[on_reply] = (named, tally if isinstance(tally, dict) else {})
        elif record.get("reply") is True:
            # A message's first reply is the one voted on; a later line cannot replace it.
            replied.setdefault((named.channel, named.ts), named)
        elif record.get("asked_after_silence") is True and record.get("rule") is None:
            # (Lines of an older errdesk logged a rule's silence too: no label changes a rule.)
            labels[(named.channel, named.ts)] = _label(named, expect_reply=True, drawn_from=MISSED)
    for key, tallies in votes.items():
        if len(tallies) > 1:
            drafted.several_replies += 1
            continue
        ((named, tally),) = tallies.values()
        helpful, not_it = (_count(tally.get(choice)) for choice in ("helpful", "not_it"))
        decided = replied.get(key)
        if decided is None or decided.entry != named.entry:
            drafted.unmatched_votes += 1  # its decision is in another log, or was not logged
        elif helpful == not_it:
            drafted.tied_votes += 1
        else:
            said = (VOTED_HELPFUL if helpful > not_it else VOTED_NOT_IT).format(helpful, not_it)
            labels[key] = _label(decided, expect_reply=helpful > not_it, drawn_from=said)
    drafted.labels = list(labels.values())
    return drafted


def _named(record: dict[str, Any]) -> _Named | None:
    values = [record.get(name) for name in NAMING_FIELDS]
    names = [value for value in values if isinstance(value, str) and value]
    if len(names) < len(NAMING_FIELDS):
        return None
    channel, ts, thread_ts, entry = names
    return _Named(channel=channel, thread_ts=thread_ts, entry=entry, ts=ts)


def _label(named: _Named, *, expect_reply: bool, drawn_from: str) -> DraftLabel:
    return DraftLabel(
        channel=named.channel,
        thread_ts=named.thread_ts,
        entry=named.entry,
        ts=named.ts,
        expect_reply=expect_reply,
        drawn_from=drawn_from,
    )


def _count(value: object) -> int:
    """A tally's count; anything but a whole number (a log edited by hand) counts none."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _record(line: str) -> dict[str, Any] | None:
    if not line.lstrip().startswith("{"):
        return None
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    return record if isinstance(record, dict) else None


def corpus_line(label: DraftLabel, text: str) -> dict[str, Any]:
    """A labelled message in the corpus format: its thread is its source, so cross-validation
    keeps a thread on one side, and a message inside a thread is read as one. Credentials in
    the text are masked: a draft file is passed around and kept."""
    protocol, _, code = label.entry.partition(" ")
    inside = "" if label.ts == label.thread_ts else f"#{label.ts}"
    return {
        "id": f"{label.channel}-{label.ts}",
        "text": mask(text),
        "expect_reply": label.expect_reply,
        "target": {"protocol": protocol, "code": code} if label.expect_reply else None,
        "source": f"slack:{label.channel}/{label.thread_ts}{inside}",
        "note": f"{DRAFT_NOTE}: {label.drawn_from}",
    }


def write_draft(
    client: WebClient,
    settings: Settings,
    labels: Iterable[DraftLabel],
    out: TextIO,
    bot_user_id: str | None,
) -> Written:
    """Each label's message read again from Slack as errdesk read it (files included) and
    written to `out` as a corpus line; a message gone is passed over, and one Slack would not
    let the bot read is counted by Slack's reason."""
    written = Written()
    for label in labels:
        failures: list[str] = []
        where = Explained(label.thread_ts, label.ts)
        calling = partial(call, on_failure=failures.append)
        read = read_again(client, settings, label.channel, where, bot_user_id, calling)
        refusals = [reason for reason in failures if reason not in GONE]
        if read is not None:
            refusals += read.failures  # a file of it errdesk read then, unread now
        if refusals:
            written.unreadable[refusals[0]] += 1  # one message, counted by its first reason
        elif read is None or not read.text:
            written.gone += 1
        else:
            out.write(json.dumps(corpus_line(label, read.text), ensure_ascii=False) + "\n")
            written.labels += 1
            written.wanting_reply += label.expect_reply
    return written
