"""The `errdesk` command line: explain, console, kb, eval, and clear errors for bad settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.engine.knowledge import PROTOCOLS
from tests.support import bundled_kb

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {
    key: value
    for key, value in os.environ.items()
    if not key.startswith(("SLACK_", "ERRDESK_", "REDIS_")) and key != "PORT"
}


def errdesk(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    """Run the real command in a child process, from a folder that is not the checkout."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
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
    assert result["reply"] is True
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


def test_console_answers_each_piped_line() -> None:
    run = errdesk("console", stdin="sftp 3\nlist ftp 4xx\nhello there\n")
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
    ],
)
def test_a_bad_setting_is_one_clear_line(variable: str, value: str, expected: str) -> None:
    run = errdesk("kb", "check", env={variable: value})
    assert run.returncode == 2
    assert run.stderr.strip().startswith(f"errdesk: {expected}"), run.stderr
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
