"""Answers: verdict, steps in order, other readings, the reply decision, the JSON contract."""

from __future__ import annotations

import json

import pytest

from tests.support import engine


def test_answer_carries_the_entry_verdict_and_steps() -> None:
    answer = engine().explain("331 Please specify the password.")
    assert answer.decisive is not None
    assert answer.decisive.verdict == "you"
    assert answer.verdict_line == "You can fix this yourself."
    assert answer.steps == answer.decisive.steps


def test_informational_reply_never_triggers_an_automatic_reply() -> None:
    answer = engine().explain("226 Transfer complete.")
    assert answer.decisive is not None
    assert answer.decisive.verdict == "info"
    assert not answer.reply


def test_a_normal_login_step_is_not_an_error_to_reply_to() -> None:
    answer = engine().explain(
        "220 Welcome\n331 Please specify the password.\n230 Login successful."
    )
    assert not answer.reply


def test_context_advice_comes_first_and_is_not_repeated() -> None:
    answer = engine().explain("> STOR report.csv\n< 552 Disk quota exceeded")
    assert answer.context_advice, "552 after STOR has advice of its own"
    assert answer.steps[: len(answer.context_advice)] == answer.context_advice
    assert len(set(answer.steps)) == len(answer.steps)


def test_ambiguous_code_offers_the_other_protocol() -> None:
    answer = engine().lookup("500")
    assert answer.decisive is not None
    keys = [answer.decisive.key, *(entry.key for entry in answer.alternatives)]
    assert ("ftp", "500") in keys
    assert ("http", "500") in keys


def test_lookup_answers_a_bare_code_that_explain_would_not_reply_to() -> None:
    assert engine().lookup("sftp 3").decisive.key == ("sftp", "3")
    assert engine().lookup("WSAETIMEDOUT").decisive.key == ("winsock", "10060")
    assert engine().lookup("connection reset").decisive.key == ("winsock", "10054")


def test_lookup_never_asks_for_an_automatic_reply() -> None:
    assert not engine().lookup("ftp 425").reply


def test_nothing_found_is_an_empty_answer() -> None:
    answer = engine().explain("lunch at noon?")
    assert answer.decisive is None
    assert not answer.reply


def test_family_lists_a_class_of_codes() -> None:
    family = engine().family("list ftp 5xx")
    assert family is not None
    codes = [entry.code for entry in family]
    assert "550" in codes
    assert all(code.startswith("5") for code in codes)


def test_family_is_none_for_other_queries() -> None:
    assert engine().family("ftp 550") is None


def test_json_contract_has_the_documented_fields() -> None:
    result = engine().explain("Response: 530 Login incorrect.").to_dict()
    assert set(result) >= {"reply", "decisive", "findings", "alternatives"}
    assert set(result["decisive"]) >= {"protocol", "code", "title", "verdict", "confidence"}
    finding = result["findings"][0]
    assert set(finding) >= {"protocol", "code", "confidence", "span"}
    json.dumps(result)  # serialisable as it is


def test_exposed_password_is_part_of_the_answer() -> None:
    answer = engine().explain("PASS hunter2\n530 Login incorrect.")
    assert answer.secrets == ("a clear-text password (PASS command)",)


def test_a_protocol_and_one_digit_is_a_lookup_not_a_family() -> None:
    assert engine().family("sftp 3") is None
    assert engine().family("ftp 5xx") is not None


def test_ask_reads_help_families_answers_and_nothing() -> None:
    kinds = {text: engine().ask(text).kind for text in ("help", "list ftp 5xx", "425", "hello")}
    assert kinds == {"help": "usage", "list ftp 5xx": "family", "425": "answer", "hello": "nothing"}


def test_ask_strictly_does_not_look_up_the_closest_wording() -> None:
    assert engine().ask("connection reset").kind == "answer"
    assert engine().ask("connection reset", loose=False).kind == "nothing"


def test_a_single_common_word_finds_nothing_by_wording() -> None:
    for word in ("status", "list", "help", "server"):
        assert engine().lookup(word).decisive is None, word


def _json_span_of(text: str, code: str) -> str:
    result = engine().explain(text).to_dict()
    finding = next(f for f in result["findings"] if f["code"] == code)
    start, end = finding["span"]
    return text[start:end]


def test_json_spans_point_into_the_given_text_after_entities_are_undone() -> None:
    assert _json_span_of("x &amp;&amp;&amp;&amp; error 425", "425") == "425"


def test_json_spans_point_into_the_given_text_of_a_focused_long_log() -> None:
    log = "".join(f"Status: transferred file{n}.txt\n" for n in range(2_000))
    log += "Command: STOR report.pdf\nResponse: 550 Permission denied.\n"
    assert _json_span_of(log, "550") == "550"


def test_json_spans_survive_slack_links_and_expanding_characters() -> None:
    text = "see <https://x.example/a|the doc> ﬁrst: Response: 553 Could not create file."
    assert _json_span_of(text, "553") == "553"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tls 48", ("tls", "48")),
        ("ssl 40", ("tls", "40")),
        ("curl 28", ("curl", "28")),
        ("curl exit code 6", ("curl", "6")),
        ("ssh 14", ("ssh", "14")),
        ("wininet 12029", ("wininet", "12029")),
        ("winhttp 12175", ("wininet", "12175")),
        ("win32 5", ("windows", "5")),
        ("hresult 0x80090325", ("windows", "0x80090325")),
    ],
)
def test_a_direct_lookup_names_any_protocol_or_its_alias(
    query: str, expected: tuple[str, str]
) -> None:
    answer = engine().lookup(query)
    assert answer.decisive is not None, query
    assert answer.decisive.key == expected
    assert answer.findings[0].kind == "lookup", "read as a lookup, not recognized by chance"


def test_list_and_a_protocol_alone_lists_the_whole_protocol() -> None:
    family = engine().family("list ssh")
    assert family is not None
    assert [entry.code for entry in family] == [str(code) for code in range(1, 16)]


def test_one_x_per_digit_lists_the_codes_of_that_length() -> None:
    family = engine().family("list tls 4x")
    assert family is not None
    assert {entry.code for entry in family} == {str(code) for code in range(40, 50)}


def test_a_family_of_three_digits_leaves_out_the_two_digit_codes() -> None:
    family = engine().family("list tls 1xx")
    assert family is not None
    codes = [entry.code for entry in family]
    assert "10" not in codes
    assert codes, "the alerts 100 to 121"
    assert all(len(code) == 3 for code in codes), codes
