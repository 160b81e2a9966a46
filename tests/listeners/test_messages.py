"""bot/listeners/messages.py: what is read from a Slack message, beside its `text`."""

from __future__ import annotations

from bot.listeners.messages import attached_words

FAILURE = "curl: (7) Failed to connect to ftp.example.com port 21: Connection refused"


def test_an_attachments_words_are_read_and_its_colour_is_not() -> None:
    message = {
        "text": "Nightly upload",
        "attachments": [{"color": "danger", "pretext": "Job failed", "text": FAILURE}],
    }
    assert attached_words(message) == ["Job failed", FAILURE]


def test_an_attachments_field_values_are_read() -> None:
    message = {"attachments": [{"fields": [{"title": "Error", "value": FAILURE}]}]}
    assert attached_words(message) == [FAILURE]


def test_blocks_are_read_only_when_the_text_is_empty() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": FAILURE}}]
    assert attached_words({"text": "", "blocks": blocks}) == [FAILURE]
    assert attached_words({"text": FAILURE, "blocks": blocks}) == [], "the text says it already"


def test_a_malformed_attachment_list_is_no_words_and_no_crash() -> None:
    message = {"attachments": ["not an object", {"fields": "neither"}], "blocks": {"x": 1}}
    assert attached_words(message) == []


def test_a_link_preview_is_not_what_the_poster_says() -> None:
    preview = {"title": "FTP 425 explained", "text": FAILURE, "from_url": "https://example.com"}
    assert attached_words({"text": "good read", "attachments": [preview]}) == []


def test_a_malformed_block_is_no_words_and_no_crash() -> None:
    assert attached_words({"text": "", "blocks": [{"type": "section", "fields": 5}]}) == []
