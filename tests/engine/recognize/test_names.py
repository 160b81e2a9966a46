"""Symbolic names as whole words, and one-word titles right after an error label."""

from __future__ import annotations

from bot.engine.recognize import Finding
from bot.engine.recognize.names import NameFinder
from tests.support import bundled_kb, cues_of, found_keys


def names_in(text: str) -> list[Finding]:
    return NameFinder(bundled_kb()).find(text, cues_of(text), asked=False)


def keys(text: str) -> list[tuple[str, str]]:
    return [finding.entry.key for finding in names_in(text)]


def test_a_symbolic_name_is_found_with_its_span() -> None:
    [finding] = names_in("read ECONNRESET")
    assert finding.entry.key == ("winsock", "10054")
    assert finding.span == (5, 15), f"the span should cover the name alone: {finding.span}"


def test_a_name_inside_a_longer_word_is_not_that_name() -> None:
    assert keys("ECONNRESETS") == [], "only the whole word ECONNRESET names the error"


def test_a_symbolic_name_in_lower_case_still_counts() -> None:
    assert keys("read econnreset") == [("winsock", "10054")], "people type names in lower case"


def test_a_dotted_name_is_read_by_its_last_part() -> None:
    [finding] = names_in("raised acme.net.ECONNRESET")
    assert finding.entry.key == ("winsock", "10054")
    assert finding.matched == "acme.net.ECONNRESET", "the whole dotted name is what was matched"


def test_an_http_status_name_that_is_a_plain_word_counts_in_upper_case() -> None:
    assert keys("FORBIDDEN") == [("http", "403")], "HTTPStatus.FORBIDDEN's name in capitals"


def test_an_http_status_name_in_lower_case_is_a_word() -> None:
    assert keys("that folder is forbidden for guests") == [], (
        "'forbidden' in a sentence is an English word, not HTTP 403"
    )


def test_a_one_word_title_counts_right_after_an_error_label() -> None:
    [finding] = names_in("Error: Forbidden")
    assert finding.entry.key == ("http", "403")
    assert finding.span == (7, 16), f"the span should point at the title: {finding.span}"


def test_a_one_word_title_alone_is_not_an_error() -> None:
    assert keys("Forbidden") == [], "a one-word title needs an error label before it"


def test_a_posix_name_that_file_systems_raise_too_is_weaker_evidence() -> None:
    [file_or_socket] = names_in("EACCES")
    [socket_only] = names_in("ECONNREFUSED")
    assert file_or_socket.confidence < socket_only.confidence, (
        "EACCES is raised by file systems as often as by sockets, so it should say less of a "
        f"socket error than ECONNREFUSED: {file_or_socket.confidence} vs {socket_only.confidence}"
    )


def test_python_s_error_for_a_missing_remote_file_is_sftp_s_no_such_file() -> None:
    found = found_keys("listdir raises FileNotFoundError for a folder the server shows")
    assert ("sftp", "2") in found, f"paramiko raises it for SSH_FX_NO_SUCH_FILE: {found}"


def test_the_posix_name_for_a_missing_file_is_sftp_s_no_such_file() -> None:
    found = found_keys("get() fails with IOError(errno.ENOENT) on the nightly export")
    assert found == [("sftp", "2")], f"sftp servers map ENOENT to SSH_FX_NO_SUCH_FILE: {found}"
