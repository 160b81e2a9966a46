"""Answers as Slack Block Kit messages: a `text` fallback for notifications plus blocks.

Rendering decides nothing about what is true: it lays out an `Answer` within Slack's limits
(50 blocks a message, 150 characters a header, 3000 a section) and escapes every piece of text,
so that `<!channel>` or `*bold*` pasted from a log is shown as typed instead of acted on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from bot.engine import Answer, Entry
from bot.engine.secrets import mask
from bot.render.shape import Outline, outline
from bot.render.text import (
    NOTHING_FOUND,
    because_line,
    heading,
    secret_warning,
)

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3000
MAX_CONTEXT = 2000
MAX_FALLBACK = 3000
MAX_BUTTON_VALUE = 2000
MAX_QUOTE = 200
MAX_STEPS = 12
# The longest entry key ("windows 0x800B010A") a vote's button is read back with: the bundled
# keys reach 18 characters and a site's own stay well inside 64; a longer one is not ours.
MAX_ENTRY_KEY = 64

# Action ids the listeners in bot/listeners/actions register for.
ACTION_HELPFUL = "feedback_helpful"
ACTION_NOT_IT = "feedback_not_it"
ACTION_SHARE = "share_answer"
ACTION_MORE = "more_steps"
FEEDBACK_BLOCK = "errdesk_feedback"
VOTES_BLOCK = "errdesk_votes"
VOTES = {ACTION_HELPFUL: "helpful", ACTION_NOT_IT: "not_it"}

USAGE_EXAMPLES = (
    ("/errcode 425", "a code: FTP, SFTP, HTTP or Winsock"),
    ("/errcode sftp 3", "a code in one protocol"),
    ("/errcode WSAETIMEDOUT", "a symbolic name"),
    ("/errcode connection reset", "words from the error message"),
    ("/errcode list ftp 5xx", "every code of a family"),
)
VERDICT_ICONS = {
    "info": ":information_source:",
    "you": ":wrench:",
    "admin": ":office:",
    "isp": ":globe_with_meridians:",
}
VOTE_WORDS = {"helpful": "Helpful", "not_it": "Not it"}
# Said instead of echoing a question that holds a password or a token.
MASKED = "not repeated here: it holds a secret"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
# An entry's key as the vote buttons carry it: its protocol, a space, its code.
_ENTRY_KEY = re.compile(r"[a-z][a-z0-9_-]* \S+")


class Message(NamedTuple):
    """What a listener posts: the plain fallback `text` and the `blocks`."""

    text: str
    blocks: list[dict[str, Any]]


class Explained(NamedTuple):
    """The Slack message whose text an answer explains, for "More steps" to read it again."""

    thread_ts: str
    ts: str


class Expansion(NamedTuple):
    """What a "More steps" or "Share in channel" button holds: the question asked privately
    (and who shared the answer, if someone did), or the message that was explained, never by
    its text. `picked` is the message a question was picked from with the message shortcut:
    Share posts the answer in its thread, and a question too long for a button is read again
    from it (then `query` is None)."""

    query: str | None = None
    shared_by: str | None = None
    explained: Explained | None = None
    picked: Explained | None = None


def escape(text: str) -> str:
    """Slack's three control characters as entities, so user text is displayed, never parsed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_answer(
    answer: Answer,
    *,
    asked: str | None = None,
    shareable: bool = False,
    shared_by: str | None = None,
    explained: Explained | None = None,
    picked: Explained | None = None,
    full: bool = False,
    warn: bool = True,
) -> Message:
    """The reply for an answer that found something: short unless `full` (three steps, and
    "More steps" to expand in place when the question can be read again).

    `asked` is a question asked privately (echoed back, unless it is a message `picked` with
    the shortcut); `shareable` adds Share; `shared_by` credits whoever made it public;
    `explained` is the message a thread reply explains. A secret is never echoed nor put in a
    button, and `warn=False` leaves its warning out of a public reply (the poster is warned
    privately instead of pointing everyone at it).
    """
    entry = answer.decisive
    if entry is None:
        return render_nothing_found(asked, answer.secrets, warn=warn)
    expansion = None
    if not full and (asked is not None or explained is not None):
        expansion = Expansion(
            query=_safe_query(answer, asked),
            shared_by=shared_by,
            explained=explained,
            picked=picked,
        )
    shape = outline(answer, full=full or expansion is None)
    blocks: list[dict[str, Any]] = [_header(heading(entry))]
    if answer.secrets and warn:
        blocks.append(_section(":warning: *" + escape(secret_warning(answer.secrets)) + "*"))
    origin = _origin(answer, shape, asked, shared_by, picked)
    if origin:
        blocks.append(_context(origin))
    blocks.append(_section(escape(entry.meaning)))
    blocks.append(_section(_verdict(answer, shape)))
    blocks.extend(_steps(shape))
    if shape.alternatives:
        readings = "; ".join(escape(heading(other)) for other in shape.alternatives)
        blocks.append(_context(f"*Could also be:* {readings}"))
    if shape.related:
        related = ", ".join(escape(other.label) for other in shape.related)
        blocks.append(_context(f"*Worth reading next:* {related}"))
    share_query = _safe_query(answer, asked) if shareable else None
    more = more_value(expansion, entry) if expansion is not None and shape.hidden_steps else None
    share = share_value(share_query, entry, picked) if share_query is not None else None
    blocks.append(_feedback(entry, share, more, shape.hidden_steps, explained))
    return Message(_fallback(answer, warn), _fit(blocks))


def render_nothing_found(
    asked: str | None = None, secrets: tuple[str, ...] = (), *, warn: bool = True
) -> Message:
    """Never silence: say nothing was recognised, and how to ask in a way that works.

    `asked` (the /errcode query) is echoed unless `secrets` says it exposes one; then the
    reply warns about the secret instead (unless `warn` is False: a public reply).
    """
    lines = [escape(NOTHING_FOUND)]
    if asked and secrets:
        lines.insert(0, f"Nothing matched your question ({MASKED}).")
    elif asked:
        lines.insert(0, f"Nothing matched {_code(mask(asked))}.")
    if secrets and warn:
        lines.insert(0, ":warning: *" + escape(secret_warning(secrets)) + "*")
    examples = ", ".join(f"`{example}`" for example, _ in USAGE_EXAMPLES)
    lines.append(f"Try {examples}, or mention me in a thread to explain its first message.")
    text = "\n".join(lines)
    return Message(_clip(text, MAX_FALLBACK), [_section(text)])


def render_secret_warning(kinds: Sequence[str]) -> Message:
    """The private warning to whoever pasted a credential (errdesk masked it everywhere)."""
    text = ":warning: *" + escape(secret_warning(tuple(kinds))) + "*"
    text += "\nOnly you can see this. errdesk did not repeat it anywhere."
    return Message(_clip(escape(secret_warning(tuple(kinds))), MAX_FALLBACK), [_section(text)])


def with_notes(message: Message, notes: Sequence[str]) -> Message:
    """`message` with a line saying what was left out of what was read (files skipped or cut),
    above its buttons."""
    if not notes:
        return message
    note = _context(escape(" · ".join(mask(note) for note in notes)))
    blocks = list(message.blocks)
    at = len(blocks) - 1 if blocks and blocks[-1].get("type") == "actions" else len(blocks)
    return Message(message.text, _fit([*blocks[:at], note, *blocks[at:]]))


def render_apology() -> Message:
    """Said when errdesk failed to handle a question, so the person is not left waiting."""
    text = escape("Something went wrong on my side; try again, or /errcode <code>.")
    return Message(text, [_section(text)])


def render_usage() -> Message:
    """The help for a bare `/errcode` or `/errcode help`."""
    lines = [
        "*Ask errdesk about a file-transfer or network error (FTP, SFTP, HTTP, sockets, SSH, "
        "TLS, curl, Windows).* Only you see the answer."
    ]
    lines += [f"• `{example}`: {what}" for example, what in USAGE_EXAMPLES]
    lines.append(
        "Paste a whole error line or a client log too: errdesk picks the error that decided it. "
        "In a channel, mention me in a thread to explain the thread's first message."
    )
    text = "\n".join(lines)
    return Message(_clip(text, MAX_FALLBACK), [_section(text)])


def render_family(query: str, entries: Sequence[Entry]) -> Message:
    """A family listing such as "list ftp 5xx": one line a code, packed into few sections."""
    if not entries:
        text = f"No codes in that family ({_code(query)})."
        return Message(text, [_section(text)])
    blocks: list[dict[str, Any]] = [_header(f"{query.strip()}: {len(entries)} codes")]
    lines = [
        f"*{escape(entry.label)}* {escape(entry.title)} {VERDICT_ICONS.get(entry.verdict, '')}"
        for entry in entries
    ]
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > MAX_SECTION:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(_clip(line, MAX_SECTION))
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    blocks.append(_context("Ask `/errcode <code>` for the meaning and the steps of one of them."))
    fallback = escape(f"{query.strip()}: " + ", ".join(entry.label for entry in entries))
    return Message(_clip(fallback, MAX_FALLBACK), _fit(blocks))


def with_votes(
    blocks: Sequence[Mapping[str, Any]], vote: str, tallies: Mapping[str, int]
) -> list[dict[str, Any]]:
    """The same message with the vote acknowledged and the tally shown under the buttons."""
    kept = [dict(block) for block in blocks if block.get("block_id") != VOTES_BLOCK]
    counts = " · ".join(f"{VOTE_WORDS[v]}: {tallies.get(v, 0)}" for v in VOTE_WORDS)
    word = VOTE_WORDS.get(vote, vote)
    note = _context(
        f":white_check_mark: Thanks, your vote ({word}) is recorded. {counts}", block_id=VOTES_BLOCK
    )
    position = next(
        (i + 1 for i, block in enumerate(kept) if block.get("block_id") == FEEDBACK_BLOCK),
        len(kept),
    )
    kept.insert(position, note)
    return _fit(kept)


def more_value(expansion: Expansion, entry: Entry) -> str:
    """The "More steps" button's value: where the explained message is, so that it is read
    again rather than copied into the button; or the /errcode query (the entry's key when it
    is too long for a button, as for Share) and who shared the answer."""
    if expansion.explained is not None:
        thread_ts, ts = expansion.explained
        return json.dumps({"thread_ts": thread_ts, "ts": ts})
    by = (
        expansion.shared_by if expansion.shared_by and _USER_ID.match(expansion.shared_by) else None
    )
    return _question_value(expansion.query, entry, by=by, picked=expansion.picked)


def _button_data(value: object) -> dict[str, Any] | None:
    """The JSON object a button's value holds; None for anything else (the value comes back
    from Slack, so it may be old, edited or hostile)."""
    try:
        data = json.loads(str(value))
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def read_more_value(value: str) -> Expansion | None:
    """What a "More steps" button holds; None when the value is not one of ours."""
    data = _button_data(value)
    if data is None:
        return None
    thread_ts, ts = data.get("thread_ts"), data.get("ts")
    if isinstance(thread_ts, str) and isinstance(ts, str) and thread_ts and ts:
        return Expansion(explained=Explained(thread_ts, ts))
    return _read_question(data)


def feedback_value(entry: Entry, explained: Explained | None) -> str:
    """The Helpful / Not it buttons' value: the entry's key, and the message the reply explains
    when it is one, so that a vote names the one decision it judged."""
    key = f"{entry.protocol} {entry.code}"
    if explained is None:
        return key
    return json.dumps({"entry": key, "thread_ts": explained.thread_ts, "ts": explained.ts})


def read_feedback_value(value: object) -> tuple[str, Explained | None]:
    """The entry key a vote is on, and the message its reply explains (None for a private
    answer, or a button posted before votes named it); "?" for a value that is not ours."""
    text = str(value or "")
    data: dict[str, Any] = (_button_data(text) or {}) if text.startswith("{") else {"entry": text}
    entry = data.get("entry")
    if not isinstance(entry, str) or len(entry) > MAX_ENTRY_KEY or not _ENTRY_KEY.fullmatch(entry):
        return "?", None
    thread_ts, ts = data.get("thread_ts"), data.get("ts")
    if isinstance(thread_ts, str) and isinstance(ts, str) and thread_ts and ts:
        return entry, Explained(thread_ts, ts)
    return entry, None


def keep_votes(blocks: Sequence[Mapping[str, Any]], into: Message) -> Message:
    """`into` with the vote tally of the message it replaces, when that one showed one."""
    votes = [dict(block) for block in blocks if block.get("block_id") == VOTES_BLOCK]
    if not votes:
        return into
    kept = list(into.blocks)
    position = next(
        (i + 1 for i, block in enumerate(kept) if block.get("block_id") == FEEDBACK_BLOCK),
        len(kept),
    )
    return Message(into.text, _fit([*kept[:position], *votes, *kept[position:]]))


def share_value(query: str, entry: Entry, picked: Explained | None = None) -> str:
    """The Share button's value: the query to answer again (the entry's key if it is too long,
    or where the picked message is, to read it again), and the picked message, whose thread
    Share posts in."""
    return _question_value(query, entry, picked=picked)


def read_share_value(value: str) -> Expansion | None:
    """The question inside a Share button's value; None when the value is not one of ours."""
    data = _button_data(value)
    return _read_question(data) if data is not None else None


def _question_value(
    query: str | None, entry: Entry, *, by: str | None = None, picked: Explained | None = None
) -> str:
    """A button's JSON for a question to answer again: the masked query; when it does not fit,
    where the picked message is (to read it again, so the answer stays the same), else the
    entry's key; who shared it."""
    key = f"{entry.protocol} {entry.code}"
    data = {"q": mask(query) if query else key}
    if by:
        data["by"] = by
    if picked is not None:
        data["in"], data["at"] = picked
    value = json.dumps(data, ensure_ascii=False)
    if len(value) > MAX_BUTTON_VALUE:
        shorter = (
            {name: data[name] for name in data if name != "q"} if picked else {**data, "q": key}
        )
        value = json.dumps(shorter)
    return value


def _read_question(data: Mapping[str, Any]) -> Expansion | None:
    """The question `_question_value` wrote; None when it holds none."""
    query, shared_by, thread_ts, ts = data.get("q"), data.get("by"), data.get("in"), data.get("at")
    picked = (
        Explained(thread_ts, ts)
        if isinstance(thread_ts, str) and isinstance(ts, str) and thread_ts and ts
        else None
    )
    asked = query if isinstance(query, str) and query.strip() else None
    if asked is None and picked is None:
        return None
    return Expansion(
        query=asked, shared_by=shared_by if isinstance(shared_by, str) else None, picked=picked
    )


def _origin(
    answer: Answer,
    shape: Outline,
    asked: str | None,
    shared_by: str | None,
    picked: Explained | None,
) -> str:
    """Who shared the answer, the /errcode query, or the line of the message that decided it.

    A message picked with the shortcut is neither echoed nor quoted: the reader has it in
    front of them, and the button it was answered again from may hold only its code.
    """
    parts = []
    if shared_by and _USER_ID.match(shared_by):
        parts.append(f"Shared by <@{shared_by}>")
    if asked is not None and picked is None and answer.secrets:
        parts.append(f"asked with `/errcode` ({MASKED})")
    elif asked is not None and picked is None:
        parts.append(f"asked {_code('/errcode ' + mask(asked))}")
    elif asked is None and not answer.secrets:
        quote = _decisive_line(answer)
        if quote:
            parts.append(f"Seen in the message: {_code(quote)}")
    if shape.seen:
        parts.append(escape(shape.seen))
    return " · ".join(parts)


def _safe_query(answer: Answer, asked: str | None) -> str | None:
    """The query to keep in a button: the entry's key instead of a query holding a secret."""
    entry = answer.decisive
    if asked is None or entry is None:
        return None
    return f"{entry.protocol} {entry.code}" if answer.secrets else asked


def _verdict(answer: Answer, shape: Outline) -> str:
    """Who can fix it, and on the line under it what decided that, when a situation did."""
    icon = VERDICT_ICONS.get(answer.verdict, "")
    line = f"{icon} *Who can fix it:* {escape(answer.verdict_line)}".strip()
    if shape.because:
        line += f"\n_{escape(because_line(shape.because))}_"
    return line


def _decisive_line(answer: Answer) -> str:
    """The line of the message that holds the decisive error, for the reader to check."""
    entry = answer.decisive
    spans = [
        finding.span
        for finding in sorted(answer.findings, key=lambda f: -f.confidence)
        if entry is not None and finding.entry.key == entry.key and finding.span
    ]
    if not spans:
        return ""
    start, end = spans[0][0], spans[0][1]
    text = answer.query
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return text[line_start : line_end if line_end != -1 else len(text)].strip()


def _steps(shape: Outline) -> list[dict[str, Any]]:
    """Numbered steps, the situation's own first under their own title."""
    specific = list(shape.steps[: shape.own_steps])
    general = list(shape.steps[shape.own_steps :])
    groups = [("For this case", specific), ("In general", general)] if specific else []
    groups = groups or [("What to do", general)]
    blocks: list[dict[str, Any]] = []
    number = 1
    for title, group in groups:
        if not group:
            continue
        lines = [f"*{title}*"]
        for step in group[:MAX_STEPS]:
            line = _clip(f"{number}. {escape(step)}", MAX_SECTION - 40)
            number += 1
            if len("\n".join([*lines, line])) > MAX_SECTION:
                blocks.append(_section("\n".join(lines)))
                lines = []
            lines.append(line)
        blocks.append(_section("\n".join(lines)))
    return blocks


def _feedback(
    entry: Entry,
    share: str | None,
    more: str | None,
    hidden_steps: int,
    explained: Explained | None,
) -> dict[str, Any]:
    key = feedback_value(entry, explained)
    elements = [
        _button("Helpful", ACTION_HELPFUL, key),
        _button("Not it", ACTION_NOT_IT, key),
    ]
    if more is not None:
        label = f"More steps ({hidden_steps})"
        elements.insert(0, _button(label, ACTION_MORE, more))
    if share is not None:
        button = _button("Share in channel", ACTION_SHARE, share)
        button["style"] = "primary"
        elements.insert(0, button)
    return {"type": "actions", "block_id": FEEDBACK_BLOCK, "elements": elements}


def _fallback(answer: Answer, warn: bool) -> str:
    entry = answer.decisive
    if entry is None:
        return escape(NOTHING_FOUND)
    title = heading(entry)
    text = f"{title}{'' if title.endswith(('.', '!', '?')) else '.'} {answer.verdict_line}"
    if answer.secrets and warn:
        text = f"{secret_warning(answer.secrets)} {text}"
    return _clip(escape(text), MAX_FALLBACK)


def _fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most 50 blocks; when cutting, the buttons (the last block) stay."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    last = blocks[-1]
    keep_last = last.get("type") == "actions" or last.get("block_id") == VOTES_BLOCK
    if keep_last:
        return [*blocks[: MAX_BLOCKS - 1], last]
    return blocks[:MAX_BLOCKS]


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": _plain(text, MAX_HEADER)}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(mrkdwn, MAX_SECTION)}}


def _context(mrkdwn: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": _clip(mrkdwn, MAX_CONTEXT)}],
    }
    if block_id:
        block["block_id"] = block_id
    return block


def _button(label: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": _plain(label, 75),
        "action_id": action_id,
        "value": value[:MAX_BUTTON_VALUE],
    }


def _plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object whose escaped text fits `limit`, cut on the raw text."""
    raw = " ".join(text.split())
    escaped = escape(raw)
    if len(escaped) > limit:
        raw = raw[:limit]
        while raw and len(escape(raw)) > limit - 1:
            raw = raw[:-1]
        escaped = escape(raw.rstrip()) + "…"
    return {"type": "plain_text", "text": escaped or " ", "emoji": True}


def _code(text: str) -> str:
    """User text shown as inline code: one line, escaped, no backticks to break out with."""
    flat = " ".join(text.replace("`", "ˋ").split())
    if len(flat) > MAX_QUOTE:
        flat = flat[: MAX_QUOTE - 1].rstrip() + "…"
    return f"`{escape(flat)}`" if flat else "``"


def _clip(text: str, limit: int) -> str:
    """Cut to `limit` characters without splitting an entity such as &amp;."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"
