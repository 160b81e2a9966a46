"""Wordings: a near wording is no second error, and a line's numbers or the wording's own words
do not decide which entry a wording is."""

from __future__ import annotations

from tests.support import engine


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
