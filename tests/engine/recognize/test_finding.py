"""What every recognizer shares: normalized wordings, and merged findings."""

from __future__ import annotations

from bot.engine.recognize.finding import normalize


def test_a_dotless_i_typed_on_a_turkish_keyboard_reads_as_an_i() -> None:
    assert normalize("PKIX yolu oluşturma: pkıx path building failed") == normalize(
        "PKIX yolu oluşturma: PKIX path building failed"
    )
