"""The `errdesk` command line: explain, console, kb, eval, and clear errors for bad settings."""

from __future__ import annotations

import codecs
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.engine.knowledge import PROTOCOLS
from tests.support import bundled_kb, engine

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {
    key: value
    for key, value in os.environ.items()
    if not key.startswith(("SLACK_", "ERRDESK_", "REDIS_")) and key != "PORT"
}


def errdesk(*args: str, stdin: str | bytes = "", env: dict[str, str] | None = None):
    """Run the real command in a child process, from a folder that is not the checkout."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=isinstance(stdin, str),
        timeout=120,
        cwd="/",
        env={**CLEAN_ENV, "PYTHONPATH": str(ROOT), **(env or {})},
        check=False,
    )


@pytest.fixture(autouse=True)
def _no_slack_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("SLACK_", "ERRDESK_", "REDIS_")) or key == "PORT":
            monkeypatch.delenv(key)


def test_explain_text_prints_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "FTP", "error", "425"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FTP 425: Can't open data connection.")
    assert "Who can fix it:" in out


def test_explain_reads_standard_input() -> None:
    run = errdesk("explain", stdin="Response: 530 Login incorrect.\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("FTP 530")


def test_explain_json_is_one_object_with_the_contract_fields() -> None:
    run = errdesk("explain", "--json", "read ECONNRESET")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert isinstance(result["reply"], bool), f"reply must be true or false: {result['reply']!r}"
    assert result["decisive"]["protocol"] == "winsock"
    assert result["decisive"]["code"] == "10054"
    assert {"findings", "alternatives"} <= set(result)


def test_explain_jsonl_answers_thousands_of_lines_in_order() -> None:
    texts = ["error 425", "lunch?", "SSH_FX_NO_SUCH_FILE", "HTTP/1.1 413 Too Large"] * 750
    stdin = "".join(json.dumps({"id": n, "text": t}) + "\n" for n, t in enumerate(texts))
    run = errdesk("explain", "--jsonl", stdin=stdin)
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert [r["id"] for r in results] == list(range(len(texts)))
    codes = [r["decisive"] and r["decisive"]["code"] for r in results[:4]]
    assert codes == ["425", None, "2", "413"]


def test_explain_jsonl_answers_a_bad_line_with_an_error_object() -> None:
    run = errdesk("explain", "--jsonl", stdin='{"text": "error 425"}\nnot json\n[1]\n')
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert results[0]["decisive"]["code"] == "425"
    assert results[1]["error"].startswith("not JSON")
    assert results[2] == {"line": 3, "error": 'expected an object with a "text" string'}


def test_explain_jsonl_in_thread_decides_every_line_as_a_follow_up() -> None:
    stdin = json.dumps({"text": "read ECONNRESET while uploading, what can I do?"}) + "\n"
    opening = json.loads(errdesk("explain", "--jsonl", stdin=stdin).stdout)
    follow_up = json.loads(errdesk("explain", "--jsonl", "--in-thread", stdin=stdin).stdout)
    assert follow_up["reply_probability"] != opening["reply_probability"], (
        f"--in-thread should reach the lines of --jsonl too: {opening} / {follow_up}"
    )


def test_kb_check_passes_on_the_bundled_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "check"]) == 0
    assert capsys.readouterr().out.startswith("OK: ")


def test_kb_check_names_file_entry_and_field_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(
        '[[entry]]\nprotocol = "ftp"\ncode = "599"\ntitle = "x"\nmeaning = "x"\n'
        'verdict = "maybe"\nsteps = ["x"]\n'
    )
    run = errdesk("kb", "check", env={"ERRDESK_KNOWLEDGE_DIR": str(tmp_path)})
    assert run.returncode == 1
    assert "site.toml: entry 1 (ftp 599): field 'verdict'" in run.stdout


def test_kb_check_says_what_each_site_file_adds_and_overrides(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ERRDESK_KNOWLEDGE_DIR", str(ROOT / "knowledge" / "examples"))
    assert main(["kb", "check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "  site.toml: adds ftp 599; overrides ftp 530", lines
    assert lines[-1].startswith("OK: "), lines


def test_kb_list_filters_by_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "list", "--protocol", "sftp"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines, "sftp entries are listed"
    assert all(line.startswith("SFTP ") for line in lines)


def test_kb_show_prints_one_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "show", "ftp", "550"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("FTP 550")
    assert "after STOR" in out


def test_kb_show_lists_context_cases_with_conditions_verdict_and_because(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["kb", "show", "ftp", "425"]) == 0
    out = capsys.readouterr().out
    assert "passive and private-address" in out, out
    assert (
        "verdict: admin, because the server announced a private address in its passive reply" in out
    ), out


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_kb_list_takes_every_protocol(protocol: str) -> None:
    assert main(["kb", "list", "--protocol", protocol]) == 0


@pytest.mark.parametrize("protocol", sorted({entry.protocol for entry in bundled_kb()}))
def test_kb_show_takes_every_protocol_with_entries(
    protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = bundled_kb().for_protocol(protocol)[0]
    assert main(["kb", "show", protocol, entry.code]) == 0
    assert capsys.readouterr().out.startswith(f"{entry.label}: {entry.title}")


def test_kb_show_unknown_code_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "show", "ftp", "999"]) == 1
    assert "no entry for ftp 999" in capsys.readouterr().err


def test_console_answers_each_piped_line_with_lines() -> None:
    run = errdesk("console", "--lines", stdin="sftp 3\nlist ftp 4xx\nhello there\n")
    assert run.returncode == 0, run.stderr
    assert "SFTP 3:" in run.stdout
    assert "FTP 425: Can't open data connection." in run.stdout
    assert "I could not find" in run.stdout


def test_console_reads_a_question_the_way_errcode_does() -> None:
    from bot.cli import _console_reply
    from tests.support import engine

    assert "list ftp 5xx" in _console_reply(engine(), "help")
    assert "FTP 550" in _console_reply(engine(), "ftp 5xx")
    pasted = "Command: STOR a.csv\nResponse: 553 File name not allowed."
    assert _console_reply(engine(), pasted).startswith("FTP 553")
    secret = _console_reply(engine(), "can you check ftp://bob:hunter22@files.example.com")
    assert "I could not find" in secret
    assert "change that password" in secret


def test_console_answers_the_layers_as_it_answers_the_protocols() -> None:
    run = errdesk("console", "--lines", stdin="tls 48\nlist ssh\ncurl: (28) Operation timed out\n")
    assert run.returncode == 0, run.stderr
    assert "TLS 48:" in run.stdout
    assert "SSH 14:" in run.stdout
    assert "CURL 28:" in run.stdout


def test_serve_without_tokens_says_what_is_missing_and_offers_the_console() -> None:
    run = errdesk("serve")
    assert run.returncode == 2
    assert "SLACK_BOT_TOKEN" in run.stderr
    assert "errdesk console" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PORT", "eighty", "PORT must be a whole number from 1 to 65535"),
        ("SLACK_BOT_TOKEN", "abc", "SLACK_BOT_TOKEN must be a Slack token starting with 'xoxb-'"),
        ("SLACK_API_URL", "slack.test", "SLACK_API_URL must be a URL"),
        ("ERRDESK_KNOWLEDGE_DIR", "/nonexistent/kb", "ERRDESK_KNOWLEDGE_DIR must name"),
        ("ERRDESK_AUTOREPLY_CHANNELS", "#general", "ERRDESK_AUTOREPLY_CHANNELS must be"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL"),
        ("SLACK_API_URL", "http://[bad", "SLACK_API_URL must be a URL"),
        ("REDIS_URL", "redis://localhost:abc/0", "REDIS_URL must be a URL"),
        ("REDIS_URL", "redis://localhost:6379/0?socket_timeout=abc", "REDIS_URL must be a URL"),
        ("ERRDESK_DATA_DIR", "~errdesk-no-such-user/data", "ERRDESK_DATA_DIR must name"),
    ],
)
def test_a_bad_setting_is_one_clear_line(variable: str, value: str, expected: str) -> None:
    run = errdesk("kb", "check", env={variable: value})
    assert run.returncode == 2
    assert run.stderr.strip().startswith(f"errdesk: {expected}"), run.stderr
    assert "Traceback" not in run.stderr


def test_serve_with_a_redis_url_redis_py_refuses_stops_before_any_worker_boots() -> None:
    settings = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "secret", "PORT": "1"}
    run = errdesk("serve", env={**settings, "REDIS_URL": "redis://cache:6379/0?socket_timeout=x"})
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("errdesk: REDIS_URL must be a URL"), run.stderr
    assert "Traceback" not in run.stderr


def test_eval_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    corpus = Path(__file__).parent / "corpus" / "cases.jsonl"
    assert main(["eval", str(corpus), "--misses", "0"]) == 0
    out = capsys.readouterr().out
    assert "decisive accuracy:" in out
    assert "false replies (negatives):" in out


def test_eval_of_a_missing_corpus_says_where_the_shared_one_is_expected(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["eval", "/nonexistent/corpus.jsonl"]) == 2
    error, hint = capsys.readouterr().err.splitlines()
    assert error.startswith("errdesk: /nonexistent/corpus.jsonl: cannot be read"), error
    assert "../shared/corpus/dev.jsonl" in hint, hint
    assert "errdesk eval tests/corpus/holdout.jsonl" in hint, hint


def test_eval_names_the_malformed_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text('{"text": "x", "expect_reply": false, "target": null}\n{"text": 1}\n')
    assert main(["eval", str(corpus)]) == 2
    assert f"{corpus}: line 2: expected an object" in capsys.readouterr().err


WINSCP_DIALOG = (
    "Error listing directory '/upload'.\n\n"
    "Could not retrieve directory listing\n"
    "Connection failed.\n"
    "Permission denied.\n\n"
    "Error code: 3\n"
    "Error message from server (US-ASCII): Permission denied"
)


class Terminal:
    """errdesk in a pseudo-terminal, as a person at a terminal of kind `term` runs it."""

    def __init__(self, *args: str, term: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd="/",
            env={**CLEAN_ENV, "PYTHONPATH": str(ROOT), "TERM": term},
            start_new_session=True,
        )
        os.close(slave)
        self.output = ""

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait_for(self, wanted: str, count: int = 1, timeout: float = 60.0) -> str:
        """Read what the terminal shows until `wanted` appeared `count` times."""
        deadline = time.monotonic() + timeout
        while self.output.count(wanted) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{wanted!r} x{count} not shown; the screen:\n{self.output}")
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    time.sleep(0.1)
        return self.output

    def close(self) -> int:
        """Wait for errdesk to exit; what it showed last is read too. Its exit status."""
        try:
            status = self.process.wait(timeout=30)
            while select.select([self.master], [], [], 0.2)[0]:
                self.output += os.read(self.master, 65536).decode(errors="replace")
        except OSError:  # the terminal is closed once everything was read
            pass
        finally:
            os.close(self.master)
        return status


def pasted(text: str) -> str:
    """`text` as a terminal that marks pastes sends it, then Enter."""
    return f"\x1b[200~{text}\x1b[201~\n"


def test_console_takes_a_marked_paste_with_blank_lines_as_one_message() -> None:
    terminal = Terminal("console", term="xterm-256color")
    terminal.wait_for("> ")
    assert "\x1b[?2004h" in terminal.output, "the console asks the terminal to mark pastes"
    terminal.type(pasted(WINSCP_DIALOG))
    terminal.wait_for("Who can fix it:")
    terminal.type("\x04")
    assert terminal.close() == 0
    assert terminal.output.count("Who can fix it:") == 1, terminal.output
    assert "SFTP 3: Permission denied" in terminal.output
    assert "\x1b[?2004l" in terminal.output, "and stops asking when it quits"


def test_console_in_a_terminal_without_paste_marks_ends_at_two_empty_lines() -> None:
    terminal = Terminal("console", term="dumb")
    terminal.wait_for("> ")
    assert "\x1b[?2004h" not in terminal.output
    terminal.type(WINSCP_DIALOG.replace("\n", "\r") + "\r\r\r")
    terminal.wait_for("Who can fix it:")
    terminal.type("\x04")
    assert terminal.close() == 0
    assert terminal.output.count("Who can fix it:") == 1, terminal.output
    assert "SFTP 3: Permission denied" in terminal.output


def test_console_without_paste_marks_ends_a_message_at_ctrl_d() -> None:
    terminal = Terminal("console", term="dumb")
    terminal.wait_for("> ")
    terminal.type("Command:\tSTOR a.csv\n\nResponse:\t553 File name not allowed.\n\x04")
    screen = terminal.wait_for("Who can fix it:")
    terminal.type("\x04")
    assert terminal.close() == 0
    assert "FTP 553" in screen
    assert "Seen after STOR." in screen


def test_console_shows_the_last_answer_in_full_on_more() -> None:
    terminal = Terminal("console", term="xterm-256color")
    terminal.wait_for("> ")
    terminal.type("Response: 425 Can't open data connection.\n\n")
    terminal.wait_for("more step")
    terminal.type("more\n\n")
    screen = terminal.wait_for("Worth reading next:")
    terminal.type("\x04")
    assert terminal.close() == 0
    assert screen.count("Who can fix it:") == 2


def test_explain_on_a_terminal_with_no_text_says_how_to_give_it_some() -> None:
    terminal = Terminal("explain", term="xterm-256color")
    screen = terminal.wait_for("errdesk console")
    assert terminal.close() == 2
    assert "errdesk explain < winscp.log" in screen


def test_piped_input_is_one_message_whatever_blank_lines_it_holds() -> None:
    run = errdesk("console", stdin=WINSCP_DIALOG + "\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("Who can fix it:") == 1, run.stdout
    assert "SFTP 3" in run.stdout


@pytest.mark.parametrize("command", ["console", "explain"])
def test_utf16_on_standard_input_is_decoded(command: str) -> None:
    run = errdesk(command, stdin=codecs.BOM_UTF16_LE + WINSCP_DIALOG.encode("utf-16-le"))
    assert run.returncode == 0, run.stderr
    assert b"SFTP 3" in run.stdout


def test_explain_shows_three_steps_and_full_shows_every_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["explain", "Response: 425 Can't open data connection."]) == 0
    short = capsys.readouterr().out
    assert "more step" in short
    assert "errdesk explain --full" in short
    assert main(["explain", "--full", "Response: 425 Can't open data connection."]) == 0
    full = capsys.readouterr().out
    assert "more step" not in full
    assert "Worth reading next:" in full


def test_explain_why_names_the_features_that_pushed_the_reply_most(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = "read ECONNRESET while uploading, what can I do?"
    expected = [item["feature"] for item in engine().explain(text).why()["features"]]
    assert main(["explain", "--why", text]) == 0
    out = capsys.readouterr().out
    answer, _, why = out.partition("\nWhy ")
    assert "Who can fix it:" in answer, f"the answer comes first, then why:\n{out}"
    assert expected, "the reply model weighs some features of this message"
    missing = [feature for feature in expected if feature not in why]
    assert not missing, f"--why should name {missing}; it printed:\n{why}"
    assert "threshold" in why, f"--why should set the probability against the threshold:\n{why}"


def test_explain_why_names_the_rule_that_decided(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--why", "226 Transfer complete."]) == 0
    why = capsys.readouterr().out.partition("\nWhy ")[2]
    assert "an informational reply needs no explanation" in why, (
        f"an informational reply is decided by a rule, and --why should say which:\n{why}"
    )


def test_explain_in_thread_decides_as_for_a_follow_up(capsys: pytest.CaptureFixture[str]) -> None:
    text = "read ECONNRESET while uploading, what can I do?"
    assert main(["explain", "--json", "--why", text]) == 0
    opening = json.loads(capsys.readouterr().out)["why"]
    assert main(["explain", "--json", "--why", "--in-thread", text]) == 0
    follow_up = json.loads(capsys.readouterr().out)["why"]
    assert follow_up["rule"] is None, (
        f"the starter's follow-up is the model's to decide: {follow_up}"
    )
    pushed_by = [item["feature"] for item in follow_up["features"]]
    assert "in_thread" in pushed_by, f"the shipped model weighs where a message sits: {pushed_by}"
    assert follow_up["probability"] != opening["probability"], (opening, follow_up)


def test_explain_json_why_adds_the_decision_to_the_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["explain", "--json", "--why", "read ECONNRESET"]) == 0
    result = json.loads(capsys.readouterr().out)
    why = result.get("why")
    assert isinstance(why, dict), f'--json --why should add a "why" object: {result}'
    assert why["probability"] == result["reply_probability"]
    assert 0 < why["threshold"] < 1, f"the threshold the probability was set against: {why}"
    assert why["features"], f"the features that pushed the decision: {why}"
    assert all({"feature", "push"} <= set(item) for item in why["features"]), why["features"]


def test_explain_json_without_why_has_no_why_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--json", "read ECONNRESET"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "why" not in result, "the JSON contract is unchanged unless --why is asked for"


def test_explain_why_with_jsonl_is_refused_with_a_reason(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["explain", "--jsonl", "--why"]) == 2
    err = capsys.readouterr().err
    assert "--why" in err, f"the refusal should name the option refused: {err}"
    assert "--jsonl" in err, f"the refusal should name the option it does not go with: {err}"


def test_explain_with_a_bad_model_file_warns_once_and_still_answers(tmp_path: Path) -> None:
    bad = tmp_path / "site_model.json"
    bad.write_text('{"format": "errdesk-decision-model", "version": 1, "threshold": 2}')
    run = errdesk("explain", "read ECONNRESET", env={"ERRDESK_MODEL": str(bad)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("WINSOCK 10054"), "the shipped model answers instead"
    warnings = run.stderr.splitlines()
    assert len(warnings) == 1, f"one warning: {warnings}"
    assert "ERRDESK_MODEL" in warnings[0], f"the warning names the variable: {warnings}"
    assert "'threshold'" in warnings[0], f"and the field that is wrong: {warnings}"


def test_explain_jsonl_answers_a_line_nested_too_deeply_with_an_error_object() -> None:
    deep = '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    run = errdesk("explain", "--jsonl", stdin=f'{deep}\n{{"text": "error 425"}}\n')
    assert run.returncode == 0, run.stderr
    results = [json.loads(line) for line in run.stdout.splitlines()]
    assert results[0] == {"line": 1, "error": "JSON nested too deeply to read"}, results[0]
    assert results[1]["decisive"]["code"] == "425", "the next line is still answered"
