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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from slack_sdk.web import WebClient

from bot.config import Settings
from bot.listeners.messages import message_at, message_text
from bot.render.blocks import Explained

DECISION_LOGGER = "errdesk.decision"
FEEDBACK_LOGGER = "errdesk.feedback"
# Said in every drafted label's note: a suggestion drawn from use, not a person's judgement yet.
DRAFT_NOTE = "DRAFT from errdesk's log, check the label"


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
    tied_votes: int = 0
    unmatched_votes: int = 0


def labels_from_log(lines: Iterable[str]) -> Drafted:
    """The labels the log's lines suggest, one a message (a later line about the same message
    replaces an earlier one). Lines that are not errdesk's JSON decision or vote lines are
    skipped: a log holds much else."""
    # Replies by (channel, thread, code): a code is explained once a thread, so a vote on a
    # reply in that thread judged that one decision.
    replied: dict[tuple[str, str, str], str] = {}
    votes: dict[tuple[str, str, str], dict[str, Any]] = {}
    labels: dict[tuple[str, str], DraftLabel] = {}
    for record in filter(None, map(_record, lines)):
        reply = (str(record.get("channel")), str(record.get("thread_ts")), str(record.get("entry")))
        if record.get("logger") == FEEDBACK_LOGGER and record.get("thread_ts"):
            tally = record.get("votes")
            votes[reply] = tally if isinstance(tally, dict) else {}
        elif record.get("logger") == DECISION_LOGGER and record.get("reply"):
            replied[reply] = str(record.get("ts"))
        elif record.get("logger") == DECISION_LOGGER and record.get("asked_after_silence"):
            label = DraftLabel(*reply, str(record.get("ts")), True, MISSED)
            labels[(label.channel, label.ts)] = label
    drafted = Drafted([])
    for reply, tally in votes.items():
        helpful, not_it = (_count(tally.get(choice)) for choice in ("helpful", "not_it"))
        if reply not in replied:
            drafted.unmatched_votes += 1  # its decision is in another log, or was not logged
        elif helpful == not_it:
            drafted.tied_votes += 1
        else:
            wanted = helpful > not_it
            said = VOTED_HELPFUL if wanted else VOTED_NOT_IT
            label = DraftLabel(*reply, replied[reply], wanted, said.format(helpful, not_it))
            labels[(label.channel, label.ts)] = label
    drafted.labels = list(labels.values())
    return drafted


def _count(value: object) -> int:
    """A tally's count; anything but a whole number (a log edited by hand) counts none."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _record(line: str) -> dict[str, Any] | None:
    if not line.lstrip().startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def corpus_line(label: DraftLabel, text: str) -> dict[str, Any]:
    """A labelled message in the corpus format: its thread is its source, so cross-validation
    keeps a thread on one side, and a message inside a thread is read as one."""
    protocol, _, code = label.entry.partition(" ")
    inside = "" if label.ts == label.thread_ts else f"#{label.ts}"
    return {
        "id": f"{label.channel}-{label.ts}",
        "text": text,
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
) -> tuple[int, int]:
    """Each label's message read again and written to `out` as a corpus line; how many were
    written, and how many could not be read any more."""
    written, gone = 0, 0
    for label in labels:
        text = read_again(client, settings, label, bot_user_id)
        if text is None:
            gone += 1
            continue
        out.write(json.dumps(corpus_line(label, text), ensure_ascii=False) + "\n")
        written += 1
    return written, gone


def read_again(
    client: WebClient, settings: Settings, label: DraftLabel, bot_user_id: str | None
) -> str | None:
    """The labelled message's text as errdesk read it (files included), from Slack as it is
    now; None when it is gone (deleted) or out of the bot's reach."""
    message = message_at(client, label.channel, Explained(label.thread_ts, label.ts))
    if message is None:
        return None
    return message_text(client, settings, message, bot_user_id).text or None
