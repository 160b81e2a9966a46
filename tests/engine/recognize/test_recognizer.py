"""Recognizer: what the finders found, merged into one finding per entry."""

from __future__ import annotations

from bot.engine.recognize import Finding
from tests.support import engine


def findings(text: str) -> list[Finding]:
    return engine().observe(text, asked=False)[2]


def test_a_shared_wording_takes_the_reading_of_a_code_in_the_same_text() -> None:
    text = (
        "* OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to files.example.net:443\n"
        "curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to files.example.net:443"
    )
    keys = [f.entry.key for f in findings(text)]
    assert keys == [("curl", "35")], f"the wording is curl 35's, said twice: {keys}"
