"""Known wordings, fuzzy-matched line by line: failure words, typos, titles, borrowed wordings;
a near wording is no second error, and a line's numbers or a wording's own words do not decide
which entry a wording is."""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz

from bot.engine.recognize import Finding
from bot.engine.recognize.phrases import FUZZY_CUTOFF
from tests.support import cues_of, engine, found_keys


def phrases_in(text: str) -> list[Finding]:
    return engine().recognizer.phrases.find(text, cues_of(text), asked=False)


def keys(text: str) -> set[tuple[str, str]]:
    return {finding.entry.key for finding in phrases_in(text)}


def test_a_wording_with_a_failure_word_matches_a_line_that_has_one() -> None:
    assert ("ftp", "425") in keys("Can't open data connection"), "FTP 425's own wording"


def test_a_wording_with_a_failure_word_does_not_match_a_line_without_one() -> None:
    line = "Can open data connection"
    close = fuzz.partial_ratio("can open data connection", "can t open data connection")
    assert close >= FUZZY_CUTOFF, "the line is close enough that only the failure word tells"
    assert ("ftp", "425") not in keys(line), (
        f"a line that says something works is no failure, however close ({close:.0f}) its words"
    )


def test_a_typo_in_a_long_wording_is_forgiven() -> None:
    assert keys("Requested action aborted. Local error in procesing") == {("ftp", "451")}, (
        "'procesing' for 'processing' is still FTP 451's wording"
    )


def test_a_typo_in_a_short_wording_is_forgiven() -> None:
    assert keys("Login incorect") == {("ftp", "530")}, "one letter missing is still FTP 530"


def test_a_wording_that_is_only_a_title_is_weak_evidence() -> None:
    [title_only] = phrases_in("Not Found")
    [printed] = phrases_in("No such file")
    assert title_only.confidence <= 0.5, (
        f"'Not Found' is HTTP 404's title, not a line software prints alone: "
        f"{title_only.confidence}"
    )
    assert printed.confidence > title_only.confidence, (
        f"a wording software prints says more: {printed.confidence} vs {title_only.confidence}"
    )


def test_a_printed_wording_is_read_before_a_title_that_shares_it() -> None:
    [finding] = phrases_in("Connection timed out")
    others = [entry.key for entry in finding.readings]
    assert ("http", "522") in others, "HTTP 522's title is also 'Connection timed out'"
    assert finding.entry.key == ("winsock", "10060"), (
        f"sockets print this wording; HTTP 522 only has it as a title: {finding.entry.key}"
    )


def test_a_borrowed_wording_goes_to_the_protocol_the_text_speaks_of() -> None:
    assert keys("ftp upload: Permission denied") == {("ftp", "550")}, (
        "'Permission denied' in a text about FTP should be FTP's own 550"
    )


def found(text: str) -> set[tuple[str, str]]:
    return {finding.entry.key for finding in engine().explain(text).findings}


def test_a_near_wording_on_the_words_of_a_wording_found_as_it_is_is_no_second_error() -> None:
    keys = found("Handshake failed: no matching C->S compression")
    assert keys == {("ssh", "6")}, "not also 'no matching C->S mac' (ssh 3), misread"


def test_the_numbers_in_a_line_do_not_keep_a_wording_from_matching() -> None:
    keys = found("Invalid user alice from 192.0.2.10 port 50122")
    assert ("ssh", "15") in keys, keys


def test_the_wordings_own_words_do_not_carry_it_to_another_protocol() -> None:
    text = (
        "A certificate chain processed, but terminated in a root certificate which is not "
        "trusted by the trust provider."
    )
    assert found(text) == {("windows", "0x800B0109")}, "'certificate' is the wording's own word"


def test_a_wording_that_is_only_a_title_still_answers_when_no_other_matches() -> None:
    keys = found("A connection with the server could not be established")
    assert keys == {("wininet", "12029")}, keys


def test_the_sftp_description_of_a_generic_failure_is_sftp_failure() -> None:
    text = "rename: An error occurred, but no specific error code exists to describe the failure."
    assert found_keys(text) == [("sftp", "4")], found_keys(text)


def test_lwip_s_wording_for_a_taken_address_is_address_in_use() -> None:
    text = "httpd: bind to port 80 failed: Address in use."
    assert ("winsock", "10048") in found_keys(text), found_keys(text)


def test_newlib_s_wording_for_an_unreachable_host_is_no_route_to_host() -> None:
    text = 'mqtt: connect() failed, errno 118, "Host is unreachable"'
    assert ("winsock", "10065") in found_keys(text), found_keys(text)


def test_cloudflare_s_522_status_line_reads_as_http() -> None:
    text = "FTP mirror job stopped: (522) Origin Connection Time-out"
    assert found_keys(text) == [("http", "522")], found_keys(text)


def test_the_chinese_windows_text_of_a_forbidden_socket_access_is_wsaeacces() -> None:
    text = "启动失败：以一种访问权限不允许的方式做了一个访问套接字的尝试。"
    assert found_keys(text) == [("winsock", "10013")], found_keys(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ssh: connect to host sftp1 port 22: 连接被拒绝", ("winsock", "10061")),
        ("ssh: connect to host sftp1 port 22: Verbindungsaufbau abgelehnt", ("winsock", "10061")),
        ("ssh: connect to host sftp1: Время ожидания соединения истекло", ("winsock", "10060")),
        ("Read from remote host sftp1: 接続が相手からリセットされました", ("winsock", "10054")),
        ("ssh: connect to host sftp1 port 22: Não há rota para o host", ("winsock", "10065")),
        ("connect: La rete non è raggiungibile", ("winsock", "10051")),
        ("bind: Adresse déjà utilisée", ("winsock", "10048")),
        ("Write failed: 由软件导致的连接中止", ("winsock", "10053")),
    ],
)  # fmt: skip
def test_a_socket_error_in_a_linux_locale_s_words_is_its_posix_twin(
    text: str, expected: tuple[str, str]
) -> None:
    """ssh, lftp and curl print strerror(), which glibc translates to the system's language."""
    assert found_keys(text) == [expected], found_keys(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scp: /srv/in/a.csv: 权限不够", ("sftp", "3")),
        ("remote open(\"/in/a.csv\"): Keine Berechtigung", ("sftp", "3")),
        ("scp: /data/x: Нет такого файла или каталога", ("sftp", "2")),
        ("write remote \"/in/a.csv\": Aucun espace disponible sur le périphérique", ("sftp", "14")),
        ("scp: /home/ana/b.tar: Przekroczony limit dyskowy", ("sftp", "15")),
    ],
)  # fmt: skip
def test_a_file_error_in_a_linux_locale_s_words_is_its_sftp_status(
    text: str, expected: tuple[str, str]
) -> None:
    """scp and sftp print a file's strerror() in the system's language, as glibc translates it."""
    assert found_keys(text) == [expected], found_keys(text)


def test_rfc_959_s_head_of_the_550_text_alone_is_ftp_550() -> None:
    text = "STOR report.csv: Requested action not taken"
    assert ("ftp", "550") in found_keys(text), found_keys(text)


def test_a_short_line_with_every_word_of_a_wording_in_another_order_matches() -> None:
    text = "Unsupported operation when the mirror syncs"
    assert found_keys(text) == [("sftp", "8")], found_keys(text)


def test_a_timeout_written_as_one_word_is_the_socket_time_out() -> None:
    assert ("winsock", "10060") in keys("SFTP connection timeout, retrying"), (
        "'connection timeout' is a wording of the connection timing out"
    )
