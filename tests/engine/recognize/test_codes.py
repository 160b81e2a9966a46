"""Codes: numbers read where their surroundings or a layer's shape say they are codes."""

from __future__ import annotations

from tests.support import found_keys as keys


def test_a_gnutls_number_after_the_library_name_is_read_without_the_word_error() -> None:
    found = keys("mirror sync stopped: errors in GnuTLS -15 on every retry")
    assert ("tls", "10") in found, f"GnuTLS -15 is an unexpected packet: {found}"


def test_a_bare_wininet_number_with_an_error_word_after_it_is_a_code() -> None:
    found = keys("the 12029 code is thrown again after the proxy change")
    assert found == [("wininet", "12029")], f"12029 is WinINet's cannot-connect: {found}"


def test_a_duration_in_milliseconds_is_no_socket_error() -> None:
    found = keys("curl: (28) Operation timed out after 10009 milliseconds with 0 bytes received")
    assert found == [("curl", "28")], f"10009 is a duration here: {found}"
