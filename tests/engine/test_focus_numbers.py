"""focus(): numbers inside larger numbers are not reply codes, thousands separators included."""

from __future__ import annotations

from bot.engine.source import FOCUS_ABOVE, read_message


def _sizes(count: int) -> str:
    return "".join(
        f"Status:\tFile transfer successful, transferred 4,{450 + i % 99},{i % 1000:03d} bytes\n"
        for i in range(count)
    )


def test_transfer_sizes_with_thousands_commas_are_not_kept_as_failures() -> None:
    text = _sizes(400) + "Command:\tSTOR report.pdf\nResponse:\t550 report.pdf: Permission denied\n"
    text += _sizes(400)
    assert len(text) > FOCUS_ABOVE
    focused = read_message(text).text
    assert "550 report.pdf: Permission denied" in focused
    assert "STOR report.pdf" in focused
    # Head, tail and the failure with its context: not the hundreds of size lines between.
    assert focused.count("transferred") < 120


def test_a_code_after_a_comma_and_a_space_still_counts() -> None:
    text = _sizes(400) + "tried twice, 550 Permission denied both times\n" + _sizes(400)
    assert "550 Permission denied both times" in read_message(text).text
