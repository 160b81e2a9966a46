"""Phrases: the wordings software prints for an error, fuzzy-matched line by line."""

from __future__ import annotations

from tests.support import found_keys as keys


def test_the_sftp_description_of_a_generic_failure_is_sftp_failure() -> None:
    text = "rename: An error occurred, but no specific error code exists to describe the failure."
    assert keys(text) == [("sftp", "4")], keys(text)


def test_lwip_s_wording_for_a_taken_address_is_address_in_use() -> None:
    text = "httpd: bind to port 80 failed: Address in use."
    assert ("winsock", "10048") in keys(text), keys(text)


def test_newlib_s_wording_for_an_unreachable_host_is_no_route_to_host() -> None:
    text = 'mqtt: connect() failed, errno 118, "Host is unreachable"'
    assert ("winsock", "10065") in keys(text), keys(text)


def test_cloudflare_s_522_status_line_reads_as_http() -> None:
    text = "FTP mirror job stopped: (522) Origin Connection Time-out"
    assert keys(text) == [("http", "522")], keys(text)


def test_the_chinese_windows_text_of_a_forbidden_socket_access_is_wsaeacces() -> None:
    text = "启动失败：以一种访问权限不允许的方式做了一个访问套接字的尝试。"
    assert keys(text) == [("winsock", "10013")], keys(text)


def test_rfc_959_s_head_of_the_550_text_alone_is_ftp_550() -> None:
    text = "STOR report.csv: Requested action not taken"
    assert ("ftp", "550") in keys(text), keys(text)


def test_a_short_line_with_every_word_of_a_wording_in_another_order_matches() -> None:
    text = "Unsupported operation when the mirror syncs"
    assert keys(text) == [("sftp", "8")], keys(text)
