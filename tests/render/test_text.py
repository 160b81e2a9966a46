"""Plain-text answers: the terminal and the fallback text of notifications."""

from __future__ import annotations

from bot.render.text import NOTHING_FOUND, more_steps_note, render_text
from tests.support import engine


def test_text_answer_leads_with_the_code_and_who_can_fix_it() -> None:
    text = render_text(engine().explain("Response: 426 Connection closed; transfer aborted."))
    lines = text.splitlines()
    assert lines[0].startswith("FTP 426:")
    assert "Who can fix it: Contact your ISP or network team" in text
    assert "What to do:" in text


def test_text_answer_says_what_triage_saw() -> None:
    log = "Command: PASV\nResponse: 227 Entering Passive Mode (192,0,2,1,4,1)\nCommand: STOR a\n"
    text = render_text(engine().explain(log + "Response: 425 Can't open data connection."))
    assert text.splitlines()[1] == "Seen after STOR, in passive mode."


def test_text_answer_offers_other_readings() -> None:
    assert "Could also be: HTTP 500" in render_text(engine().lookup("500"))


def test_text_answer_warns_about_an_exposed_password() -> None:
    text = render_text(engine().explain("PASS hunter2\n530 Login incorrect."))
    assert "Careful: this text shows a clear-text password" in text


def test_nothing_found_says_how_to_ask() -> None:
    assert render_text(engine().explain("lunch?")) == NOTHING_FOUND


def test_text_answer_names_the_codes_worth_reading_next_in_full() -> None:
    text = render_text(engine().explain("Response: 425 Can't open data connection."), full=True)
    (line,) = [line for line in text.splitlines() if line.startswith("Worth reading next:")]
    assert "FTP 426" in line


def test_text_answer_shows_three_steps_and_says_how_to_see_the_rest() -> None:
    answer = engine().explain("Response: 425 Can't open data connection.")
    assert len(answer.steps) > 3
    text = render_text(answer, more="errdesk explain --full")
    numbered = [
        line for line in text.splitlines() if line[:5].strip()[:2] in ("1.", "2.", "3.", "4.")
    ]
    assert [line.split(".")[0].strip() for line in numbered] == ["1", "2", "3"]
    assert f"({more_steps_note(len(answer.steps) - 3)}: errdesk explain --full)" in text
    assert "Worth reading next" not in text


def test_full_text_answer_shows_every_step() -> None:
    answer = engine().explain("Response: 425 Can't open data connection.")
    text = render_text(answer, full=True, more="errdesk explain --full")
    assert f"  {len(answer.steps)}. " in text
    assert "more steps" not in text


def test_text_answer_says_what_decided_the_verdict() -> None:
    answer = engine().explain(
        "500 OOPS: vsftpd: refusing to run with writable root inside chroot()"
    )
    assert answer.because
    lines = render_text(answer).splitlines()
    verdict = next(i for i, line in enumerate(lines) if line.startswith("Who can fix it:"))
    assert lines[verdict + 1].startswith("Because vsftpd"), lines[verdict + 1]


def test_a_command_named_in_a_sentence_is_not_stated_as_seen() -> None:
    answer = engine().explain("site uploads fail with 550 Permission denied")
    assert answer.failure.command == "SITE"  # what triage read, for the context cases
    assert "Seen" not in render_text(answer)
