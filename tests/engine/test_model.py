"""The rank model's features: what speaks for one finding being the one to explain."""

from __future__ import annotations

from tests.support import engine


def rank_features(text: str) -> dict[tuple[str, str], dict[str, float]]:
    """Each finding's rank features, by the finding's entry."""
    reader = engine().features
    _, cues, findings = engine().observe(text, asked=False)
    shape = reader.shape(text)
    return {f.entry.key: reader.rank_features(f, findings, text, cues, shape) for f in findings}


CURL_QUOTING_A_REPLY = (
    "$ curl -T backup.tar ftp://files.example.net/\ncurl: (25) Failed FTP upload: 552"
)
CURL_QUOTING_A_REFUSAL = (
    "connect to 198.51.100.7 port 21 failed: Connection refused\n"
    "curl: (7) Failed to connect to files.example.net port 21: Connection refused"
)


def test_a_server_reply_quoted_after_a_wrapper_code_is_marked_quoted() -> None:
    features = rank_features(CURL_QUOTING_A_REPLY)
    assert features[("ftp", "552")].get("quoted_by_wrapper") == 1.0, features


def test_a_wrapper_code_whose_line_quotes_a_reply_is_marked_quoting() -> None:
    features = rank_features(CURL_QUOTING_A_REPLY)
    assert features[("curl", "25")].get("wrapper_quoting") == 1.0, features


def test_a_socket_error_worded_after_a_wrapper_code_is_marked_quoted() -> None:
    features = rank_features(CURL_QUOTING_A_REFUSAL)
    assert features[("winsock", "10061")].get("quoted_by_wrapper") == 1.0, features


def test_a_wrapper_code_alone_quotes_nothing() -> None:
    features = rank_features("curl: (6) Could not resolve host: files.example.net")
    assert not features[("curl", "6")].get("wrapper_quoting"), features


def test_a_finding_in_a_line_of_source_code_is_marked_so() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "transfer.py", line 40, in fetch\n'
        "    raise ConnectionResetError()\n"
        "paramiko.ssh_exception.SSHException: Error reading SSH protocol banner"
    )
    features = rank_features(text)
    assert features[("winsock", "10054")].get("in_source_line") == 1.0, features
    assert not features[("ssh", "10")].get("in_source_line"), features


def test_a_wording_on_the_line_of_a_reply_code_is_marked_as_its_text() -> None:
    features = rank_features("upload stopped: Permission denied.[550]")
    assert features[("sftp", "3")].get("wording_beside_code") == 1.0, features


def test_a_wording_beside_a_small_number_is_not_marked_as_its_text() -> None:
    features = rank_features("transfer_failed (err: 7) - Failed to connect to files.example.net")
    assert not features[("curl", "7")].get("wording_beside_code"), features
