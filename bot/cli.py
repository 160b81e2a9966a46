"""The `errdesk` command: serve, console, explain, kb, eval."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, Settings, load_settings
from bot.engine import (
    Answer,
    Conversation,
    Engine,
    KnowledgeError,
    load_engine,
    load_knowledge,
    load_vocabulary,
)
from bot.engine.knowledge import PROTOCOLS, ContextAdvice, Problem, read_knowledge
from bot.engine.model import ModelError, load_model
from bot.engine.vocabulary import read_vocabulary
from bot.evaluation import CorpusError
from bot.render.text import NOTHING_FOUND, heading, render_list, render_text, secret_warning
from bot.terminal import paste_marks, read_all, read_message

# One JSON line longer than this is answered with an error object rather than read whole.
MAX_JSONL_LINE = 1_048_576
# Splits `errdesk model curve` averages over by default: one split's curve moves by points
# where a few messages near a cut change sides; three take about half a minute on the shared
# corpora, on two cores (six about 45 seconds).
CURVE_SPLITS = 3
CONSOLE_USAGE = (
    "Paste an error line or a client's log, or ask for a code: 425, sftp 3, WSAETIMEDOUT, "
    "connection reset, list ftp 5xx. 'more' shows the last answer in full."
)
FULL_HELP = "every step, and the codes worth reading next"
# How each way in tells the reader where the rest of a short answer is.
MORE_IN_CONSOLE = "type more"
MORE_PIPED = "add --full"
MORE_IN_EXPLAIN = "errdesk explain --full"
# Said instead of waiting silently for a terminal to send text `errdesk explain` never gets.
EXPLAIN_NEEDS_TEXT = (
    "errdesk explain: give it the text to explain: as arguments "
    '(errdesk explain "425 Can\'t open data connection"), or on standard input '
    "(errdesk explain < winscp.log). To paste a message or a log, use errdesk console."
)
EXPLAIN_WHY_ONE_MESSAGE = (
    "errdesk explain: --why explains the decision on one message (TEXT, or --json); "
    "it does not go with --jsonl."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
        return int(args.handler(args, settings))
    except ConfigError as error:
        print(f"errdesk: {error}", file=sys.stderr)
        return 2
    except KnowledgeError as error:
        print("errdesk: the knowledge files have problems:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except CorpusError as error:  # eval, model train, model report
        print(f"errdesk: {error}", file=sys.stderr)
        if error.hint:
            print(f"  {error.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="errdesk",
        description=(
            "Explains file-transfer and network errors (FTP, SFTP, HTTP, sockets, SSH, TLS, "
            "curl, Windows), and says who can fix them."
        ),
    )
    verbs = parser.add_subparsers(metavar="COMMAND")

    serve = verbs.add_parser("serve", help="run the Slack app (HTTP, or Socket Mode)")
    serve.set_defaults(handler=_serve)

    console = verbs.add_parser("console", help="chat with errdesk in the terminal, no Slack")
    console.add_argument(
        "--lines", action="store_true", help="piped input: one message a line, not one in all"
    )
    console.add_argument("--full", action="store_true", help=FULL_HELP)
    console.set_defaults(handler=_console)

    explain = verbs.add_parser("explain", help="explain TEXT (or standard input)")
    explain.add_argument("text", nargs="*", help="the message; read from stdin when absent")
    explain.add_argument("--full", action="store_true", help=FULL_HELP)
    explain.add_argument(
        "--why",
        action="store_true",
        help="after the answer, what decided whether to answer unasked: a rule, or the reply "
        "probability against the threshold and the features that pushed it most",
    )
    explain.add_argument(
        "--in-thread",
        action="store_true",
        help="decide as for a follow-up its starter posted inside a thread, not a new message "
        "(what errdesk weighs in Slack when the message answers in a thread)",
    )
    output = explain.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument(
        "--jsonl", action="store_true", help='read {"text": ...} lines, write one object a line'
    )
    explain.set_defaults(handler=_explain)

    kb = verbs.add_parser("kb", help="check, list or show the knowledge base")
    kb_verbs = kb.add_subparsers(metavar="ACTION")
    check = kb_verbs.add_parser("check", help="validate the knowledge files")
    check.set_defaults(handler=_kb_check)
    listing = kb_verbs.add_parser("list", help="list entries")
    listing.add_argument("--protocol", choices=PROTOCOLS)
    listing.set_defaults(handler=_kb_list)
    show = kb_verbs.add_parser("show", help="show one entry, e.g. 'kb show ftp 425'")
    show.add_argument("protocol", choices=PROTOCOLS)
    show.add_argument("code")
    show.set_defaults(handler=_kb_show)

    model = verbs.add_parser("model", help="train the decision model, or measure it")
    model_verbs = model.add_subparsers(metavar="ACTION")
    fit = _corpus_action(model_verbs, "train", "fit the model to labelled JSONL corpora")
    fit.add_argument(
        "--out", type=Path, help="where to write the model (default: the shipped model file)"
    )
    fit.set_defaults(handler=_model_train)
    measure = _corpus_action(
        model_verbs, "report", "cross-validated figures, grouped by source thread"
    )
    measure.add_argument(
        "--splits",
        type=_positive_whole_number,
        default=1,
        help="also measure on this many splits in all (the fixed one, then reshuffled ones), "
        "with their mean: a change is better when it is better on average",
    )
    measure.set_defaults(handler=_model_report)
    curve = _corpus_action(
        model_verbs, "curve", "what more labelled messages would buy: recall by share trained on"
    )
    curve.add_argument(
        "--splits",
        type=_positive_whole_number,
        default=CURVE_SPLITS,
        help=f"splits to average over (the fixed one, then reshuffled ones; {CURVE_SPLITS})",
    )
    curve.set_defaults(handler=_model_curve)
    draft = model_verbs.add_parser(
        "draft",
        help="a draft of the site's own labelled messages, from errdesk's JSON log and Slack",
    )
    draft.add_argument("log", nargs="+", help="errdesk's log files (ERRDESK_LOG_FORMAT=json)")
    draft.add_argument("--out", type=Path, required=True, help="the JSONL file to write")
    draft.set_defaults(handler=_model_draft)
    frequent = _corpus_action(
        model_verbs, "words", "the words frequent enough to weigh one by one, as a vocabulary list"
    )
    frequent.add_argument(
        "--min-messages",
        type=int,
        default=None,
        help="in at least this many messages (default: the training's own threshold)",
    )
    frequent.set_defaults(handler=_model_words)

    evaluate = verbs.add_parser("eval", help="score recognition on a labelled JSONL corpus")
    evaluate.add_argument("corpus", help="a file in the format of shared/corpus/dev.jsonl")
    evaluate.add_argument("--misses", type=int, default=20, help="how many misses to print")
    evaluate.set_defaults(handler=_eval)
    return parser


def _corpus_action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str
) -> argparse.ArgumentParser:
    """A `model` action that reads labelled corpora, given as its arguments."""
    action = actions.add_parser(name, help=summary)
    action.add_argument("corpus", nargs="+", help="files in the format of shared/corpus/*.jsonl")
    return action


def _engine(settings: Settings) -> Engine:
    return load_engine(settings.knowledge_dir, settings.model_path, _warn)


def _warn(message: str) -> None:
    print(f"errdesk: {message}", file=sys.stderr)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    missing = settings.missing_for_serve()
    if missing:
        print(
            f"errdesk: cannot serve without {', '.join(missing)}. "
            "To try errdesk without Slack, run: errdesk console",
            file=sys.stderr,
        )
        return 2
    from bot.server import serve

    return serve(settings)


def _console(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    if not sys.stdin.isatty():
        text = read_all(sys.stdin)
        for message in text.splitlines() if args.lines else [text]:
            if message.strip():
                reply = _console_reply(engine, message, full=args.full, more=MORE_PIPED)
                print(reply, end="\n\n", flush=True)
        return 0
    with paste_marks(sys.stdin, sys.stdout) as marked:
        print(_console_greeting(marked))
        last: str | None = None
        while True:
            typed = read_message(sys.stdin, sys.stdout, marked)
            if typed is None:
                print()
                return 0
            if typed.strip().lower() == "more" and last is not None:
                print(_console_reply(engine, last, full=True), end="\n\n", flush=True)
            elif typed.strip():
                last = typed
                reply = _console_reply(engine, typed, full=args.full, more=MORE_IN_CONSOLE)
                print(reply, end="\n\n", flush=True)


def _console_greeting(marked: bool) -> str:
    end = "a paste is one message" if marked else "end with an empty line twice, or Ctrl-D"
    return (
        f"errdesk console: paste an error or a log ({end}), or type a question "
        "and an empty line. Ctrl-D on an empty prompt quits."
    )


def _console_reply(engine: Engine, text: str, *, full: bool = False, more: str = "") -> str:
    """The reply /errcode would give, as text: the engine reads the question (`Engine.ask`)."""
    question = engine.ask(text)
    if question.kind == "usage":
        return CONSOLE_USAGE
    if question.kind == "family":
        return render_list(list(question.entries))
    answer = question.answer
    if answer is None:
        return NOTHING_FOUND
    reply = render_text(answer, full=full, more=more)
    if answer.decisive is None and answer.secrets:
        reply += "\n\n" + secret_warning(answer.secrets)
    return reply


def _explain(args: argparse.Namespace, settings: Settings) -> int:
    if not args.jsonl and not args.text and sys.stdin.isatty():
        print(EXPLAIN_NEEDS_TEXT, file=sys.stderr)
        return 2
    if args.jsonl and args.why:
        print(EXPLAIN_WHY_ONE_MESSAGE, file=sys.stderr)
        return 2
    engine = _engine(settings)
    conversation = Conversation(in_thread=args.in_thread)
    if args.jsonl:
        return _explain_jsonl(engine, conversation, sys.stdin, sys.stdout)
    text = " ".join(args.text) if args.text else read_all(sys.stdin)
    answer = engine.explain(text, conversation)
    if args.json:
        result = answer.to_dict()
        if args.why:
            result["why"] = {**answer.why(), "threshold": engine.model.threshold}
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(render_text(answer, full=args.full, more=MORE_IN_EXPLAIN))
        if args.why:
            print("\n" + _why_text(answer, engine.model.threshold))
    return 0


def _why_text(answer: Answer, threshold: float) -> str:
    """What decided whether to answer unasked, for a person tuning the model or a corpus."""
    why = answer.why()
    if answer.decisive is None:
        return "Why nothing was said: no error was recognized, so there was nothing to decide."
    if why["rule"] is not None:
        return f"Why no reply unasked: a rule decided: {why['rule']}."
    probability = why["probability"]
    verdict = "answered unasked" if answer.reply else "no reply unasked"
    side = "at or above" if answer.reply else "below"
    lines = [
        f"Why {verdict}: the reply probability {probability:.3f} is {side} the threshold "
        f"{threshold:.3f}.",
        "The features that pushed it most (+ towards a reply, - away from one), each with its",
        "value in standard deviations from the training mean (below: absent or less than usual):",
    ]
    lines += [
        f"  {item['push']:+7.3f}  {item['feature']}  ({item['value']:+.2f} sd)"
        for item in why["features"]
    ]
    return "\n".join(lines)


def _explain_jsonl(engine: Engine, conversation: Conversation, source: TextIO, sink: TextIO) -> int:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        result = _jsonl_result(engine, conversation, line, number)
        sink.write(json.dumps(result, ensure_ascii=False) + "\n")
    sink.flush()
    return 0


def _jsonl_result(
    engine: Engine, conversation: Conversation, line: str, number: int
) -> dict[str, object]:
    if len(line) > MAX_JSONL_LINE:
        return {"line": number, "error": f"line longer than {MAX_JSONL_LINE} characters"}
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        return {"line": number, "error": f"not JSON: {error.msg}"}
    except RecursionError:
        return {"line": number, "error": "JSON nested too deeply to read"}
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return {"line": number, "error": 'expected an object with a "text" string'}
    result: dict[str, object] = engine.explain(item["text"], conversation).to_dict()
    if "id" in item:
        result = {"id": item["id"], **result}
    return result


def _kb_check(args: argparse.Namespace, settings: Settings) -> int:
    """Every problem of every file, after what each site file adds and overrides."""
    reading = read_knowledge(settings.knowledge_dir)
    if settings.knowledge_dir is not None and reading.site_files:
        print(f"site folder {settings.knowledge_dir}:")
        for site_file in reading.site_files:
            print(f"  {site_file}")
    vocabulary, vocabulary_problems = read_vocabulary(settings.knowledge_dir)
    problems = [*reading.problems, *vocabulary_problems]
    if settings.model_path is not None:
        try:
            load_model(settings.model_path)
        except ModelError as error:
            problems.append(Problem("ERRDESK_MODEL", "", "", str(error)))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found.")
        return 1
    counts: dict[str, int] = {}
    for entry in reading.entries:
        counts[entry.protocol] = counts.get(entry.protocol, 0) + 1
    summary = ", ".join(f"{protocol} {count}" for protocol, count in sorted(counts.items()))
    lists = len(vocabulary.lists) + len(vocabulary.cue_protocols)
    print(f"OK: {len(reading.entries)} entries ({summary}); {lists} vocabulary lists.")
    return 0


def _kb_list(args: argparse.Namespace, settings: Settings) -> int:
    kb = load_knowledge(settings.knowledge_dir)
    entries = kb.for_protocol(args.protocol) if args.protocol else list(kb)
    print(render_list(entries))
    return 0


def _kb_show(args: argparse.Namespace, settings: Settings) -> int:
    kb = load_knowledge(settings.knowledge_dir)
    entry = kb.get(args.protocol, args.code)
    if entry is None:
        print(f"errdesk: no entry for {args.protocol} {args.code}", file=sys.stderr)
        return 1
    print(heading(entry))
    print(f"verdict: {entry.verdict}    names: {', '.join(entry.names) or '-'}")
    print(f"\n{entry.meaning}\n")
    for number, step in enumerate(entry.steps, start=1):
        print(f"  {number}. {step}")
    if entry.context:
        print("\ncontext cases (the most specific that applies says who fixes it):")
    for number, case in enumerate(entry.context, start=1):
        print(f"  {number}. {_case_conditions(case)}")
        if case.verdict:
            print(f"     verdict: {case.verdict}, because {case.because}")
        print(f"     advice: {case.advice}")
    if entry.phrases:
        print(f"\nphrases: {'; '.join(entry.phrases)}")
    if entry.related:
        print(f"related: {', '.join(entry.related)}")
    return 0


def _case_conditions(case: ContextAdvice) -> str:
    """A case's `when` and `wording` as they are read: one of its commands, every situation,
    one of its wordings."""
    commands = [token for token in case.when if token.upper() in case.commands]
    conditions = [token.lower() for token in case.when if token.upper() in case.situations]
    if commands:
        conditions.insert(0, "after " + " or ".join(commands))
    if case.wording:
        conditions.append("the text says " + " or ".join(repr(w) for w in case.wording))
    if not conditions:
        return "always"
    *first, last = conditions
    return f"{', '.join(first)} and {last}" if first else last


def _training_engine(settings: Settings) -> Engine:
    """An engine to observe messages with: training never uses the engine's own model."""
    from bot.training import UNTRAINED

    return Engine(
        load_knowledge(settings.knowledge_dir), load_vocabulary(settings.knowledge_dir), UNTRAINED
    )


def _model_train(args: argparse.Namespace, settings: Settings) -> int:
    from bot.engine.model import SHIPPED_MODEL
    from bot.training import train

    model = train(_training_engine(settings), args.corpus)
    out = args.out or SHIPPED_MODEL
    out.write_text(json.dumps(model.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(
        f"wrote {out}: {model.trained_on.get('messages')} messages, "
        f"reply threshold {model.threshold:.3f}"
    )
    return 0


def _model_words(args: argparse.Namespace, settings: Settings) -> int:
    """Print the `frequent` list of knowledge/vocabulary/talk.toml for these corpora."""
    from bot.training import FREQUENT_WORD_MESSAGES, frequent_words

    least = FREQUENT_WORD_MESSAGES if args.min_messages is None else args.min_messages
    words = frequent_words(args.corpus, least)
    print(f"# {len(words)} words, each in at least {least} of the messages")
    print("frequent = " + json.dumps(words, ensure_ascii=False))
    return 0


def _model_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.training import reshuffled

    splits = reshuffled(_training_engine(settings), args.corpus, args.splits)
    print(splits.reports[0].render())
    if args.splits > 1:
        print()
        print(splits.render())
    return 0


def _model_curve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.training import learning_curve

    print(learning_curve(_training_engine(settings), args.corpus, args.splits).render())
    return 0


def _model_draft(args: argparse.Namespace, settings: Settings) -> int:
    """Write the messages errdesk's log suggests labels for, read again from Slack: 0 when
    every one was read or is gone, 1 when Slack refused to let the bot read some."""
    if not settings.bot_token:
        print(
            "errdesk: model draft reads the logged messages again from Slack: set "
            "SLACK_BOT_TOKEN (the bot's token; the bot must still be in their channels)",
            file=sys.stderr,
        )
        return 2
    if not args.out.parent.is_dir():
        print(f"errdesk: --out {args.out}: its folder does not exist", file=sys.stderr)
        return 2
    from bot.app import create_client
    from bot.drafting import labels_from_log, write_draft
    from bot.listeners.slack_calls import call

    try:
        drafted = labels_from_log(_lines_of(args.log))
    except OSError as error:
        print(f"errdesk: {error.filename}: cannot be read ({error.strerror})", file=sys.stderr)
        return 2
    if not drafted.lines_read:
        print(
            "errdesk: no decision or vote lines of errdesk in the log: it is read as "
            "ERRDESK_LOG_FORMAT=json writes it",
            file=sys.stderr,
        )
    client = create_client(settings)
    identity = call("auth.test", client.auth_test)
    if identity is None:
        print("errdesk: Slack did not accept SLACK_BOT_TOKEN (auth.test failed)", file=sys.stderr)
        return 2
    bot_user_id = str(identity.get("user_id") or "") or None
    try:
        with args.out.open("w", encoding="utf-8") as out:
            written = write_draft(client, settings, drafted.labels, out, bot_user_id)
    except OSError as error:
        print(f"errdesk: --out {args.out}: cannot be written ({error.strerror})", file=sys.stderr)
        return 2
    print(
        f"wrote {args.out}: {written.labels} draft labels ({written.wanting_reply} suggested "
        f"wanting a reply, {written.labels - written.wanting_reply} none) to check before "
        "training; passed over: "
        f"{written.gone} deleted since, {drafted.tied_votes} tied vote(s), "
        f"{drafted.unmatched_votes} vote(s) whose decision the log does not hold, "
        f"{drafted.several_replies} message(s) voted on in more than one reply, "
        f"{drafted.unnamed_lines} line(s) naming no message"
    )
    if written.unreadable:
        reasons = ", ".join(f"{reason} {n}" for reason, n in written.unreadable.most_common())
        print(
            f"errdesk: Slack refused to let the bot read {written.unreadable.total()} "
            f"message(s) ({reasons}): is it still in their channels, with its scopes?",
            file=sys.stderr,
        )
        return 1
    return 0


def _lines_of(paths: list[str]) -> Iterator[str]:
    """The lines of the log files, one at a time: a log can be larger than memory."""
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as stream:
            yield from stream


def _positive_whole_number(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 up, not {text!r}")
    return int(text)


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluation import evaluate_file

    print(evaluate_file(_engine(settings), args.corpus).render(max_misses=args.misses))
    return 0
