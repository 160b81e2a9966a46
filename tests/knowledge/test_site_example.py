"""The worked example in knowledge/README.md loads and does what the README says."""

from __future__ import annotations

from pathlib import Path

from bot.engine import Engine, load_knowledge

EXAMPLE = Path(__file__).resolve().parents[2] / "knowledge" / "examples"


def test_the_example_adds_a_site_code() -> None:
    engine = Engine(load_knowledge(EXAMPLE))
    answer = engine.explain("Response: 599 uploads are accepted between 18:00 and 06:00")
    assert answer.decisive is not None
    assert answer.decisive.key == ("ftp", "599")
    assert answer.decisive.title == "Upload window closed"


def test_the_example_overrides_a_bundled_entry() -> None:
    entry = load_knowledge(EXAMPLE).get("ftp", "530")
    assert entry is not None
    assert entry.source == "site.toml"
    assert "self-service portal" in entry.steps[0]


def test_the_example_leaves_other_entries_alone() -> None:
    bundled = load_knowledge().get("ftp", "425")
    assert load_knowledge(EXAMPLE).get("ftp", "425") == bundled
