"""What the listeners share: the text of a Slack message, the reply to a question, the marks.

The text is the message's own words plus its shared text files; the engine decides what the
text means. The keys name the marks kept in the shared state so that one reply is posted per
event, per message and per (thread, error code), whichever replica Slack reaches. Replies go
out through the outbound queue (`services.outbox`), named by the event they answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.web import WebClient

from bot import metrics
from bot.config import Settings
from bot.engine import Answer, Conversation, Entry, Question
from bot.engine.secrets import KIND_LABELS
from bot.listeners.files import MAX_MESSAGE_CHARS, shared_text
from bot.listeners.services import Services, count_reply, count_unrecognized
from bot.listeners.slack_calls import Caller, call, respond_with
from bot.outbox import Reply
from bot.render.blocks import (
    Explained,
    Message,
    render_answer,
    render_family,
    render_nothing_found,
    render_secret_warning,
    render_usage,
    with_notes,
)
from bot.state import EXPLAINED_THREAD_TTL, SEEN_EVENT_TTL, StateStore

log = logging.getLogger("errdesk.decision")

# What a decision's log line says it was: the auto-reply's own, or the same decision made again
# for a message someone asked about after errdesk had stayed quiet on it.
AUTO_REPLY_DECISION = "Auto-reply decision on"
ASKED_AFTER_SILENCE = "Asked about after the auto-reply stayed quiet:"
# What becomes of a decision, in its log line's words: a reply queued, or why none was.
OUTCOMES = {
    "replied": "replied",
    "no_error": "no reply",
    "already_explained": "no reply, the code was explained in this thread already",
    "duplicate": "no reply, the message was answered already",
}
# The message subtypes read as someone's own words: plain messages and shared files (not
# edits, deletions, joins or bot posts).
ANSWERED_SUBTYPES = (None, "file_share")
# The parts of a legacy attachment that hold its words (colour, links and images do not).
ATTACHMENT_TEXTS = ("pretext", "title", "text")
# What marks an attachment as a link preview Slack or an app added to the message.
UNFURL_MARKS = ("from_url", "original_url", "is_app_unfurl", "is_msg_unfurl")


@dataclass(frozen=True)
class MessageText:
    """The text read from a message, and what was left out of it (said in the reply)."""

    text: str
    notes: tuple[str, ...] = ()
    # Why some of its files could not be read (bot.listeners.files.SharedText.failures).
    failures: tuple[str, ...] = ()


def message_text(
    client: WebClient, settings: Settings, message: Mapping[str, Any], bot_user_id: str | None
) -> MessageText:
    """The words of `message` without mentions of the bot, what its attachments say, then its
    text files' contents."""
    words = str(message.get("text") or "")[:MAX_MESSAGE_CHARS]
    if bot_user_id:
        words = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", words)
    said = [words.strip(), *attached_words(message)]
    parts = ["\n".join(part for part in said if part)[:MAX_MESSAGE_CHARS]]
    files = message.get("files")
    if not isinstance(files, list) or not files:
        return MessageText("\n".join(part for part in parts if part))
    budget = MAX_MESSAGE_CHARS - len(parts[0])
    shared = shared_text(client, files, settings.slack_api_url, budget)
    parts += shared.texts
    return MessageText(
        "\n".join(part for part in parts if part), tuple(shared.notes), tuple(shared.failures)
    )


def attached_words(message: Mapping[str, Any]) -> list[str]:
    """What a message says outside its `text`: CI and alerting bots put the failure in
    attachments (pretext, title, text, field values), and a message whose `text` is empty
    says it in its blocks' sections. A link preview Slack added is someone else's page, not
    what the poster says: it is left out, and so a message reads the same before and after
    Slack unfurls its links."""
    parts: list[str] = []
    for attachment in _mappings(message.get("attachments")):
        if any(attachment.get(key) for key in UNFURL_MARKS):
            continue
        parts += [str(attachment[key]) for key in ATTACHMENT_TEXTS if attachment.get(key)]
        parts += [str(f["value"]) for f in _mappings(attachment.get("fields")) if f.get("value")]
    if not str(message.get("text") or "").strip():
        for block in _mappings(message.get("blocks")):
            texts = [block.get("text"), *_mappings(block.get("fields"))]
            parts += [str(t["text"]) for t in texts if isinstance(t, Mapping) and t.get("text")]
    return parts


def _mappings(items: object) -> list[Mapping[str, Any]]:
    """The objects of a list from a payload; anything else in it is not ours to read."""
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def reply_in_thread(
    services: Services,
    body: Mapping[str, Any],
    channel: str,
    thread_ts: str | None,
    message: Message,
    *,
    notes: tuple[str, ...] = (),
    release: tuple[str | None, ...] = (),
    suffix: str = "",
) -> None:
    """Queue `message` for the thread (for the conversation itself when `thread_ts` is None),
    named by the event it answers; `release` are the marks to forget if it can never be
    posted."""
    reply_id = (event_key(body) or f"message:{channel}:{thread_ts}") + suffix
    reply = Reply.of(reply_id, channel, with_notes(message, notes), thread_ts, release=release)
    services.outbox.send(reply)


def warn_privately(
    services: Services, client: WebClient, event: Mapping[str, Any], secrets: tuple[str, ...]
) -> None:
    """Tell the poster, and only them, that their message shows a credential: once a message.

    errdesk repeats the credential nowhere (it is masked when read); this is the nudge to
    delete the message and change what it exposed.
    """
    channel, ts, user = event.get("channel"), event.get("ts"), event.get("user")
    if not secrets or not channel or not ts or not user:
        return
    if not services.store.first_time(f"warned:{channel}:{ts}", SEEN_EVENT_TTL):
        return
    for kind in secrets:
        metrics.SECRETS.labels(kind=KIND_LABELS.get(kind, "other")).inc()
    warning = render_secret_warning(secrets)
    call(
        "chat.postEphemeral",
        client.chat_postEphemeral,
        channel=str(channel),
        user=str(user),
        thread_ts=str(event.get("thread_ts") or ts),
        text=warning.text,
        blocks=warning.blocks,
    )


def log_decision(
    answer: Answer,
    channel: str,
    message: Mapping[str, Any],
    threshold: float,
    outcome: str,
    occasion: str = AUTO_REPLY_DECISION,
) -> None:
    """One line for each message of an auto-reply channel that holds an error, answered or
    not: what decided, a rule or the reply probability against the threshold, and what became
    of it (`outcome`, a key of OUTCOMES), for an admin asking why errdesk spoke there or stayed
    quiet (`errdesk explain --why` on the message names the features; working them out here
    would double the cost of a message). The message's text is not logged; its channel, ts and
    thread name it, as a vote's line names the reply it judged."""
    decisive = answer.decisive
    if decisive is None:
        return
    ts = str(message.get("ts") or "?")
    thread_ts = str(message.get("thread_ts") or ts)
    where = f"{channel}:{ts}" if thread_ts == ts else f"{channel}:{ts} in thread {thread_ts}"
    decision = answer.decision
    entry = f"{decisive.protocol} {decisive.code}"
    if decision.rule is not None:
        reason = f"a rule decided: {decision.rule}"
    else:
        reason = f"probability {decision.probability:.3f}, threshold {threshold:.3f}"
    log.info(
        "%s %s: %s, %s (%s)",
        occasion,
        where,
        OUTCOMES[outcome],
        entry,
        reason,
        extra={
            "channel": channel,
            "ts": ts,
            "thread_ts": thread_ts,
            "entry": entry,
            "reply": outcome == "replied",
            "outcome": outcome,
            "probability": round(decision.probability, 3),
            "rule": decision.rule,
            "asked_after_silence": occasion == ASKED_AFTER_SILENCE,
        },
    )


def log_missed_report(
    services: Services, message: Mapping[str, Any], channel: str, text: str, bot_user_id: str | None
) -> None:
    """A person asked about a message of an auto-reply channel that errdesk, deciding unasked,
    left unanswered: most likely a report the decision missed, the label a site's own corpus
    most needs (docs/model.md). Logged as the decision it was, made again on the same text;
    not when a rule decided (a helper in a thread, an informational code), since no label
    changes a rule, nor for a message the auto-reply never reads (a mention, an edit)."""
    if not text or not read_unasked(services.settings, channel, message, bot_user_id):
        return
    unasked = services.engine.explain(text, conversation_of(message))
    if not unasked.reply and unasked.decision.rule is None:
        threshold = services.engine.model.threshold
        log_decision(unasked, channel, message, threshold, "no_error", ASKED_AFTER_SILENCE)


def read_unasked(
    settings: Settings, channel: str, message: Mapping[str, Any], bot_user_id: str | None
) -> bool:
    """Whether the auto-reply reads this message: a person's own words in an auto-reply
    channel, not addressed to errdesk (the mention listener answers those)."""
    return (
        message.get("subtype") in ANSWERED_SUBTYPES
        and not from_a_bot(message, bot_user_id)
        and settings.autoreply_in(channel)
        and not mentions(message, bot_user_id)
    )


def conversation_of(message: Mapping[str, Any]) -> Conversation:
    """Where a message sits: in a thread or not, and whether its author started the thread
    (Slack names the starter of a reply's thread in `parent_user_id`)."""
    thread_ts, ts = message.get("thread_ts"), message.get("ts")
    if not thread_ts or thread_ts == ts:
        return Conversation()
    starter = message.get("parent_user_id")
    return Conversation(
        in_thread=True, from_thread_starter=starter is None or starter == message.get("user")
    )


def mentions(message: Mapping[str, Any], user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}" in str(message.get("text") or "")


def from_a_bot(message: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """Bots (other apps, integrations, ourselves) are never answered: no loops between bots."""
    return (
        bool(message.get("bot_id"))
        or message.get("subtype") == "bot_message"
        or not message.get("user")
        or message.get("user") == bot_user_id
    )


def from_errdesk(message: Mapping[str, Any], bot_user_id: str | None, bot_id: str | None) -> bool:
    """errdesk's own message: posted by its bot user, or carrying its bot id (known once
    auth.test has answered)."""
    return (bool(bot_user_id) and message.get("user") == bot_user_id) or (
        bool(bot_id) and message.get("bot_id") == bot_id
    )


def render_question(
    question: Question,
    text: str,
    *,
    asked: str | None = None,
    explained: Explained | None = None,
    picked: Explained | None = None,
    warn: bool = True,
) -> Message:
    """The reply to an explicit question the engine read (`Engine.ask`) from `text`.

    `asked` is the question asked privately (the /errcode query, echoed back), and the answer
    gets the Share button; `picked` is the message it was picked from with the shortcut, in
    whose thread Share posts; `explained` is the Slack message `text` came from, for
    "More steps" to read again. `warn` is False for a public reply: the poster of a secret is
    warned privately instead.
    """
    answer = question.answer
    if question.kind == "usage":
        return render_usage()
    if question.kind == "family":
        return render_family(text, question.entries)
    if question.kind == "answer" and answer is not None:
        return render_answer(
            answer,
            asked=asked,
            shareable=asked is not None,
            explained=explained,
            picked=picked,
            warn=warn,
        )
    return render_nothing_found(asked, answer.secrets if answer is not None else (), warn=warn)


def answer_privately(
    kind: str,
    response_url: object,
    question: Question,
    asked: MessageText,
    *,
    picked: Explained | None = None,
) -> str:
    """Answer `question`, asked with `asked`, through the request's response_url: only the
    person who asked sees it, and Share makes it public. The outcome, counted as `kind`.

    `picked` is the message `asked` was read from (the message shortcut), in whose thread
    Share posts; a /errcode answer is shared in the channel.
    """
    if question.kind == "nothing":
        count_unrecognized(kind)
    message = render_question(question, asked.text, asked=asked.text, picked=picked)
    if not respond_with(response_url, with_notes(message, asked.notes), response_type="ephemeral"):
        return "error"
    if question.kind == "answer" and question.answer is not None:
        count_reply(question.answer)
    return question_outcome(question)


def question_outcome(question: Question) -> str:
    """The outcome a request that asked `question` is recorded with, once answered."""
    return {"usage": "usage", "nothing": "not_found"}.get(question.kind, "replied")


def first_delivery(store: StateStore, body: Mapping[str, Any]) -> bool:
    """False for an event handled before: Slack's retries of an event carry its event_id."""
    key = event_key(body)
    return key is None or store.first_time(key, SEEN_EVENT_TTL)


def first_answer(store: StateStore, body: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """False for a question answered already: the same event again (Slack's retry), or the
    same message through another event or replica."""
    return first_delivery(store, body) and first_reply(
        store, str(event["channel"]), str(event["ts"])
    )


def first_reply(store: StateStore, channel: str, ts: str) -> bool:
    """False when the message at `ts` was answered already, whichever event or replica did it."""
    return store.first_time(reply_key(channel, ts), SEEN_EVENT_TTL)


def first_explanation(store: StateStore, channel: str, thread_ts: str, entry: Entry) -> bool:
    """Mark `entry` as explained in the thread; False when it was, so a thread hears it once."""
    return store.first_time(explanation_key(channel, thread_ts, entry), EXPLAINED_THREAD_TTL)


def event_key(body: Mapping[str, Any]) -> str | None:
    event_id = body.get("event_id")
    return f"event:{event_id}" if isinstance(event_id, str) and event_id else None


def reply_key(channel: str, ts: str) -> str:
    return f"replied:{channel}:{ts}"


def explanation_key(channel: str, thread_ts: str, entry: Entry) -> str:
    return f"explained:{channel}:{thread_ts}:{entry.protocol}:{entry.code}"


def message_at(
    client: WebClient, channel: str, where: Explained, calling: Caller = call
) -> Mapping[str, Any] | None:
    """The message at `where.ts`, in its thread (a thread's first message included), as it
    is now: read again, so that an edit shows and a deleted message stays deleted. `calling`
    makes the Web API call (a failure is None, as a deleted message is, unless it raises)."""
    response = calling(
        "conversations.replies",
        client.conversations_replies,
        channel=channel,
        ts=where.thread_ts,
        oldest=where.ts,
        latest=where.ts,
        inclusive=True,
        limit=2,
    )
    found = response.get("messages") if response is not None else None
    if not isinstance(found, list):
        return None
    message = next((m for m in found if isinstance(m, Mapping) and m.get("ts") == where.ts), None)
    # A deleted message with replies stays in its thread as a tombstone ("This message was
    # deleted."): it is gone all the same.
    return None if message is None or message.get("subtype") == "tombstone" else message


def read_again(
    client: WebClient,
    settings: Settings,
    channel: str,
    where: Explained,
    bot_user_id: str | None,
    calling: Caller = call,
) -> MessageText | None:
    """The text of the message at `where`, read as it is now; None when it is gone."""
    message = message_at(client, channel, where, calling)
    if message is None:
        return None
    return message_text(client, settings, message, bot_user_id)


def clicked_channel(body: Mapping[str, Any]) -> str | None:
    """The channel of the message whose button was clicked."""
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get(
        "id"
    )
    return str(channel) if channel else None
