"""Cues: the words that say which protocol a message speaks of."""

from __future__ import annotations

from tests.support import engine


def test_a_libcurl_function_name_is_a_curl_cue() -> None:
    _, cues, _ = engine().observe("curl_easy_setopt_failed while the nightly job ran", asked=False)
    assert cues.protocols["curl"] > 0, dict(cues.protocols)
