"""Protocol cues: which protocols a text speaks of, and how much each word says."""

from __future__ import annotations

from bot.engine.recognize.cues import NAMED_WEIGHT
from tests.support import cues_of, engine


def cue(text: str, protocol: str) -> float:
    return cues_of(text).protocols[protocol]


def test_a_protocols_own_name_counts_more_than_one_of_its_words() -> None:
    named, client = cue("ftp", "ftp"), cue("filezilla", "ftp")
    assert client == 1, f"a client's name is one FTP cue word, counted {client}"
    assert named == NAMED_WEIGHT * client, (
        f"'ftp' itself should count {NAMED_WEIGHT} times a cue word like 'filezilla': {named}"
    )


def test_a_named_protocol_outweighs_another_protocols_cue_word() -> None:
    cues = cues_of("http upload from filezilla").protocols
    assert cues["ftp"] > 0, "filezilla is an FTP cue"
    assert cues.strongest() == "http", (
        f"naming HTTP outright should outweigh one FTP cue word: {dict(cues)}"
    )


def test_ssh_cues_both_ssh_and_sftp_over_it() -> None:
    cues = cues_of("ssh to the box works").protocols
    assert cues["ssh"] == NAMED_WEIGHT, f"'ssh' names SSH itself: {dict(cues)}"
    assert cues["sftp"] == 1, f"'ssh' is also a cue word of SFTP, which runs over it: {dict(cues)}"


def test_a_request_method_counts_in_upper_case() -> None:
    assert cue("PUT /backups/site.tar", "http") == 1, "PUT in capitals is an HTTP method"


def test_a_request_method_in_lower_case_is_an_english_word() -> None:
    assert cue("put the backup somewhere else", "http") == 0, (
        "'put' in a sentence is a verb, not an HTTP request method"
    )


def test_a_word_with_a_protocols_prefix_is_its_cue() -> None:
    assert cue("got ssh_fx_no_such_file", "sftp") == 1, "ssh_fx_* names are SFTP's"


def test_a_cue_string_counts_anywhere_in_the_text() -> None:
    assert cue("switched to passive mode, same thing", "ftp") == 1, (
        "'passive mode' is an FTP cue string"
    )


def test_only_the_opening_of_a_long_text_is_scanned() -> None:
    reach = engine().vocabulary.cue_scan_chars
    text = "x" * reach + " ftp"
    assert cue(text, "ftp") == 0, f"a cue after the first {reach} characters should not count"


def test_a_libcurl_function_name_is_a_curl_cue() -> None:
    _, cues, _ = engine().observe("curl_easy_setopt_failed while the nightly job ran", asked=False)
    assert cues.protocols["curl"] > 0, dict(cues.protocols)
