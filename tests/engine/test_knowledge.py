"""Loading and validating knowledge files: every problem names the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.knowledge import (
    Entry,
    KnowledgeError,
    SiteFile,
    bundled_dir,
    load_knowledge,
    parse_file,
    read_entries,
    read_knowledge,
)

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
    assert [item.entry.key for item in entries if item.entry] == [("ftp", "599")]


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


NO_STEPS = GOOD.replace('steps = ["Ask the administrator what the site\'s rule is."]\n', "")


def test_steps_are_required_for_anything_but_info(tmp_path: Path) -> None:
    assert problems_of(tmp_path, NO_STEPS) == [
        "site.toml: entry 1 (ftp 599): field 'steps': is required unless the verdict is info"
    ]


def test_a_bad_verdict_does_not_hide_missing_steps(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, NO_STEPS.replace('"admin"', '"someone"'))
    fields = [problem.split(": ")[2] for problem in problems]
    assert fields == ["field 'verdict'", "field 'steps'"], problems


def test_a_code_with_a_leading_zero_is_not_a_code(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD.replace('code = "599"', 'code = "0599"'))
    assert len(problems) == 1, problems
    assert "'0599' is not a code" in problems[0]


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
        "b.toml: entry 1 (ftp 599): field 'code': "
        "duplicate of ftp 599 already defined in a.toml (entry 1)"
    ]


def test_duplicate_in_one_file_is_reported_even_when_the_first_has_problems(
    tmp_path: Path,
) -> None:
    write(tmp_path, "site.toml", GOOD.replace('"admin"', '"nobody"') + GOOD)
    _, problems = read_entries(tmp_path)
    assert [str(problem) for problem in problems][1:] == [
        "site.toml: entry 2 (ftp 599): field 'code': "
        "duplicate of ftp 599 already defined in this file (entry 1)"
    ], problems


def test_a_related_code_that_names_no_entry_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "site.toml", GOOD + 'related = ["ftp 425", "ftp 4250", "598"]\n')
    _, problems = read_entries(tmp_path)
    assert [str(problem) for problem in problems] == [
        "site.toml: entry 1 (ftp 599): field 'related': 'ftp 4250' names no entry",
        "site.toml: entry 1 (ftp 599): field 'related': '598' names no entry (read as ftp 598)",
    ]


def test_a_related_code_may_name_another_site_entry(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD + 'related = ["598"]\n')
    write(tmp_path, "b.toml", GOOD.replace('code = "599"', 'code = "598"'))
    assert read_entries(tmp_path)[1] == []


def test_each_site_file_says_what_it_added_and_overrode(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD.replace('code = "599"', 'code = "425"'))
    assert read_knowledge(tmp_path).site_files == [
        SiteFile("a.toml", added=("ftp 599",), overridden=()),
        SiteFile("b.toml", added=(), overridden=("ftp 425",)),
    ]


def test_an_empty_site_folder_is_a_problem(tmp_path: Path) -> None:
    _, problems = read_entries(tmp_path)
    assert [str(problem) for problem in problems] == [
        f"{tmp_path}: no knowledge files (*.toml) in this folder (it is empty)"
    ]


def test_a_site_folder_without_toml_files_says_what_it_holds(tmp_path: Path) -> None:
    write(tmp_path, "site.TOML.txt", GOOD)
    _, problems = read_entries(tmp_path)
    assert [problem.message for problem in problems] == [
        "no knowledge files (*.toml) in this folder (it holds site.TOML.txt)"
    ]


def test_a_file_without_entries_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path, "site.toml", "entry = []\n")
    _, problems = read_entries(tmp_path)
    assert [str(problem) for problem in problems] == ["site.toml: field 'entry': holds no entries"]


def test_a_site_file_named_like_a_bundled_one_is_named_by_path(tmp_path: Path) -> None:
    assert (bundled_dir() / "ftp.toml").is_file(), "the test needs a bundled ftp.toml"
    site_file = write(tmp_path, "ftp.toml", GOOD.replace('"admin"', '"nobody"'))
    reading = read_knowledge(tmp_path)
    assert [problem.file for problem in reading.problems] == [str(site_file)]
    assert [item.name for item in reading.site_files] == [str(site_file)]


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
    parsed, problems = parse_file(write(folder, "site.toml", text))
    assert not problems, [str(problem) for problem in problems]
    entry = parsed[0].entry
    assert entry is not None, f"{parsed[0].label} did not load"
    return entry


def test_toml_nested_too_deeply_is_a_problem_of_its_file(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert problems == ["site.toml: is TOML nested too deeply to read"], problems
