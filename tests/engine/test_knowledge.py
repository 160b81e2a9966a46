"""Loading and validating knowledge files: every problem names the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.knowledge import Entry, KnowledgeError, load_knowledge, parse_file, read_entries

GOOD = """
[[entry]]
protocol = "ftp"
code = "599"
title = "Site-specific refusal"
meaning = "The server refused for a reason of its own."
verdict = "admin"
steps = ["Ask the administrator what the site's rule is."]
phrases = ["refused by site policy"]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    _, problems = parse_file(write(tmp_path, "site.toml", text))
    return [str(problem) for problem in problems]


def test_a_good_file_parses_without_problems(tmp_path: Path) -> None:
    entries, problems = parse_file(write(tmp_path, "site.toml", GOOD))
    assert problems == []
    assert [entry.key for entry, _ in entries] == [("ftp", "599")]


def test_unknown_verdict_names_file_entry_and_field(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD.replace('"admin"', '"someone"'))
    assert problems == [
        "site.toml: entry 1 (ftp 599): field 'verdict': 'someone' is not one of "
        "info, you, admin, isp"
    ]


def test_missing_title_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace('title = "Site-specific refusal"\n', "")
    assert problems_of(tmp_path, text) == [
        "site.toml: entry 1 (ftp 599): field 'title': is missing"
    ]


def test_malformed_code_is_reported(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD.replace('code = "599"', 'code = "5x9"'))
    assert len(problems) == 1
    assert "field 'code'" in problems[0]
    assert "'5x9' is not a code" in problems[0]


def test_unknown_protocol_is_reported(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD.replace('protocol = "ftp"', 'protocol = "gopher"'))
    assert len(problems) == 1
    assert "field 'protocol': 'gopher' is not one of ftp, sftp, http, winsock" in problems[0]


def test_steps_are_required_for_anything_but_info(tmp_path: Path) -> None:
    text = GOOD.replace('steps = ["Ask the administrator what the site\'s rule is."]\n', "")
    assert problems_of(tmp_path, text) == [
        "site.toml: entry 1 (ftp 599): field 'steps': is required unless the verdict is info"
    ]


def test_unknown_field_is_reported_rather_than_ignored(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD + 'verdcit = "you"\n')
    assert problems == ["site.toml: entry 1 (ftp 599): field 'verdcit': is not a known field"]


def test_bad_context_names_the_context_item(tmp_path: Path) -> None:
    text = GOOD + '[[entry.context]]\nwhen = ["STOR"]\n'
    problems = problems_of(tmp_path, text)
    assert problems == [
        "site.toml: entry 1 (ftp 599): field 'context[1].advice': must be a non-empty string"
    ]


def test_invalid_toml_names_the_file_and_position(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD + "\n[[entry]\n")
    assert len(problems) == 1
    assert problems[0].startswith("site.toml: is not valid TOML")
    assert "line" in problems[0]


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    text = GOOD.replace('"admin"', '"nobody"').replace('code = "599"', "code = true")
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2, problems


def test_duplicate_protocol_and_code_in_one_folder(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD)
    _, problems = read_entries(tmp_path)
    messages = [str(problem) for problem in problems]
    assert messages == [
        "b.toml: entry 1 (ftp 599): field 'code': duplicate of ftp 599 already defined in a.toml"
    ]


def test_site_folder_adds_an_entry(tmp_path: Path) -> None:
    write(tmp_path, "site.toml", GOOD)
    kb = load_knowledge(tmp_path)
    entry = kb.get("ftp", "599")
    assert entry is not None, "the site's own entry should be loaded"
    assert entry.source == "site.toml"


def test_site_folder_overrides_a_bundled_entry(tmp_path: Path) -> None:
    override = GOOD.replace('code = "599"', 'code = "425"').replace(
        "Site-specific refusal", "Our own wording for 425"
    )
    write(tmp_path, "override.toml", override)
    entry = load_knowledge(tmp_path).get("ftp", "425")
    assert entry is not None
    assert entry.title == "Our own wording for 425"


def test_load_raises_with_all_problems(tmp_path: Path) -> None:
    write(tmp_path, "broken.toml", GOOD.replace('"admin"', '"nobody"'))
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(tmp_path)
    assert "broken.toml: entry 1 (ftp 599): field 'verdict'" in str(raised.value)


def test_missing_site_folder_is_a_problem(tmp_path: Path) -> None:
    _, problems = read_entries(tmp_path / "absent")
    assert [problem.message for problem in problems] == ["ERRDESK_KNOWLEDGE_DIR is not a folder"]


def test_an_hresult_entry_is_a_failure(tmp_path: Path) -> None:
    hresult = GOOD.replace('protocol = "ftp"', 'protocol = "windows"')
    entry = load_knowledge_entry(tmp_path, hresult.replace('code = "599"', 'code = "0x80004004"'))
    assert entry.is_failure, "an HRESULT has no success codes: it can only be a failure"


def load_knowledge_entry(folder: Path, text: str) -> Entry:
    (entry, _), *_ = parse_file(write(folder, "site.toml", text))[0]
    return entry
