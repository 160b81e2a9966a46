"""Plain-text answers: the terminal and the fallback text of notifications."""

from __future__ import annotations

from bot.render.text import NOTHING_FOUND, render_text
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


def test_text_answer_names_the_codes_worth_reading_next() -> None:
    text = render_text(engine().explain("Response: 425 Can't open data connection."))
    (line,) = [line for line in text.splitlines() if line.startswith("Worth reading next:")]
    assert "FTP 426" in line
