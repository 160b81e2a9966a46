"""Numbers of the layers read in their own shapes, and kept apart from other families' numbers."""

from __future__ import annotations

from bot.engine import Answer
from tests.support import engine
from tests.support import found_keys as keys


def explain(text: str) -> Answer:
    return engine().explain(text)


def found(text: str) -> set[tuple[str, str]]:
    return {finding.entry.key for finding in explain(text).findings}


def decisive_key(text: str) -> tuple[str, str] | None:
    answer = explain(text)
    return answer.decisive.key if answer.decisive else None


def test_alert_and_a_number_is_a_tls_alert() -> None:
    assert decisive_key("alert 110") == ("tls", "110")


def test_a_reply_line_with_110_is_ftp() -> None:
    assert decisive_key("110 Restart marker reply") == ("ftp", "110")


def test_tls_and_a_number_is_the_alert() -> None:
    assert decisive_key("tls 48") == ("tls", "48")


def test_a_tls_version_is_no_alert() -> None:
    assert found("we only allow TLS 1.2 on this server") == set()


def test_curl_and_a_number_is_the_exit_code() -> None:
    assert decisive_key("curl 28") == ("curl", "28")


def test_a_curl_version_is_no_exit_code() -> None:
    assert found("curl 7.68.0 on Ubuntu 20.04") == set()


def test_an_alert_number_no_alert_has_is_left_to_other_families() -> None:
    keys = found("alert 500 Internal Server Error")
    assert not any(protocol == "tls" for protocol, _ in keys), keys
    assert any(code == "500" for _, code in keys), f"500 is still read: {keys}"


def test_errno_13_on_a_path_is_not_a_socket_error() -> None:
    keys = found("[Errno 13] Permission denied: '/srv/in/a.csv'")
    assert ("winsock", "10013") not in keys, keys


def test_curl_7_is_not_sftp_7() -> None:
    text = "curl: (7) Failed to connect to files.example.com port 22: Connection refused"
    assert decisive_key(text) == ("curl", "7")
    assert ("sftp", "7") not in found(text)


def test_gnutls_error_110_is_not_ftp_110() -> None:
    text = "GnuTLS error -110: The TLS connection was non-properly terminated."
    assert decisive_key(text) == ("tls", "0")
    assert ("ftp", "110") not in found(text)


def test_a_number_glued_to_hex_digits_is_no_code() -> None:
    keys = found("error:0A000410:SSL routines::sslv3 alert handshake failure")
    assert ("sftp", "0") not in keys, keys


def test_a_wininet_number_without_a_word_of_wininet_is_a_weak_reading() -> None:
    answer = explain("Error 12154 connecting to Oracle")
    assert answer.confidence < 0.7, f"{answer.decisive} at {answer.confidence}"


def test_a_wininet_number_with_wininet_named_is_a_strong_reading() -> None:
    uncued = explain("Error 12154 connecting to Oracle").confidence
    cued = explain("WinINet error 12154").confidence
    assert cued > uncued


def test_a_wininet_call_named_speaks_of_wininet() -> None:
    answer = explain("InternetOpenUrl failed with error 12029")
    assert answer.decisive is not None
    assert answer.decisive.key == ("wininet", "12029")
    assert answer.confidence >= 0.85


def test_tls_at_the_end_of_a_line_does_not_take_the_next_lines_time() -> None:
    keys = found(
        "Publish over FTP with explicit TLS\n00:41:07 504 Security mechanism not understood"
    )
    assert not any(protocol == "tls" for protocol, _ in keys), keys


def test_a_gnutls_number_after_the_library_name_is_read_without_the_word_error() -> None:
    found = keys("mirror sync stopped: errors in GnuTLS -15 on every retry")
    assert ("tls", "10") in found, f"GnuTLS -15 is an unexpected packet: {found}"


def test_a_bare_wininet_number_with_an_error_word_after_it_is_a_code() -> None:
    found = keys("the 12029 code is thrown again after the proxy change")
    assert found == [("wininet", "12029")], f"12029 is WinINet's cannot-connect: {found}"


def test_a_duration_in_milliseconds_is_no_socket_error() -> None:
    found = keys("curl: (28) Operation timed out after 10009 milliseconds with 0 bytes received")
    assert found == [("curl", "28")], f"10009 is a duration here: {found}"


def test_a_count_of_things_with_a_word_that_sizes_them_is_no_code() -> None:
    found = keys("Benchmarked both releases on 500 small files and 200 concurrent connections")
    assert found == [], f"500 and 200 count files and connections here: {found}"


def test_a_reply_text_after_a_code_is_not_taken_for_a_count() -> None:
    found = keys("Response: 550 Old files may not be overwritten")
    assert found == [("ftp", "550")], f"a reply's own text follows the 550: {found}"


def test_a_system_error_number_is_the_windows_error_without_its_closing_words() -> None:
    assert decisive_key("net use fails with System error 53") == ("windows", "53"), (
        "'System error 53' is the Windows error whether or not 'has occurred' follows"
    )


def test_a_number_ftp_does_not_define_is_the_defined_reading_when_cues_tie() -> None:
    assert decisive_key("Unexpected response: 403 from the releases api") == ("http", "403"), (
        "FTP defines no 403: with FTP and HTTP cued alike, HTTP's 403 is the reading"
    )


def test_a_number_ftp_does_not_define_is_read_as_ftp_where_ftp_is_cued_most() -> None:
    text = "the api call returns Response: 403 since monday on the ftp server too"
    assert decisive_key(text) == ("ftp", "403"), "an FTP server's own reply, read by its digits"


def test_the_title_words_around_a_number_say_which_reading_it_is() -> None:
    text = "the app times out with timeout 504 Gateway on large uploads"
    assert decisive_key(text) == ("http", "504"), "'Gateway' and 'timeout' are HTTP 504's title"


def test_a_number_without_its_title_around_it_keeps_the_cued_reading() -> None:
    text = "FTP server replied 504 for the MODE Z command"
    assert decisive_key(text) == ("ftp", "504"), "no title words: the FTP cues decide"
