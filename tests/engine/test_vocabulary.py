"""The vocabulary files: every problem located by file and field, and a site's lists added."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.engine import Engine, load_knowledge
from bot.engine.knowledge import KnowledgeError, Problem
from bot.engine.recognize.cues import read_cues
from bot.engine.triage import Triage
from bot.engine.vocabulary import (
    VOCABULARY_FOLDER,
    GuardedPattern,
    PatternList,
    Vocabulary,
    load_vocabulary,
    read_vocabulary,
    required_strings,
)

# The project's own labelled messages.
OWN_CORPORA = Path(__file__).resolve().parents[1] / "corpus"


def site(tmp_path: Path, files: dict[str, str]) -> Path:
    """A site's knowledge folder with these vocabulary files."""
    folder = tmp_path / VOCABULARY_FOLDER
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(tmp_path: Path, files: dict[str, str]) -> list[Problem]:
    return read_vocabulary(site(tmp_path, files))[1]


def test_the_bundled_vocabulary_has_no_problems() -> None:
    assert read_vocabulary()[1] == [], "the shipped word lists should read cleanly"


def test_a_list_that_is_not_a_list_names_the_file_and_the_field(tmp_path: Path) -> None:
    found = problems(tmp_path, {"talk.toml": '[report]\nfirst_person = "me"\n'})
    assert [(p.file, p.field) for p in found] == [("vocabulary/talk.toml", "report.first_person")]
    assert "list" in found[0].message, f"the problem should say what is expected: {found[0]}"


def test_a_section_that_is_not_a_table_names_the_file_and_the_section(tmp_path: Path) -> None:
    found = problems(tmp_path, {"talk.toml": 'report = ["me"]\n'})
    assert [(p.file, p.field) for p in found] == [("vocabulary/talk.toml", "report")], found


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, {"errors.toml": "[words\nfailure = ["})
    assert len(found) == 1, found
    assert found[0].file == "vocabulary/errors.toml"
    assert "TOML" in found[0].message, f"the problem should say the file is not TOML: {found[0]}"


def test_a_site_list_no_bundled_file_defines_is_named_with_the_nearest(tmp_path: Path) -> None:
    found = problems(tmp_path, {"talk.toml": '[talk]\nchange_verb = ["rework"]\n'})
    assert [(p.file, p.field) for p in found] == [("vocabulary/talk.toml", "talk.change_verb")]
    assert "talk.change_verbs" in found[0].message, (
        f"a misspelt list should be pointed at the list it nearly names: {found[0]}"
    )


def test_a_site_file_no_bundled_file_matches_names_the_files(tmp_path: Path) -> None:
    found = problems(tmp_path, {"words.toml": '[talk]\nchange_verbs = ["rework"]\n'})
    assert [(p.file, p.field) for p in found] == [("vocabulary/words.toml", "talk.change_verbs")]
    assert "talk.toml" in found[0].message, f"the problem should list the files read: {found[0]}"


def test_every_bundled_list_is_read_by_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    vocabulary = load_vocabulary()
    asked: set[str] = set()
    words = Vocabulary.words

    def recorded(self: Vocabulary, name: str) -> tuple[str, ...]:
        asked.add(name)
        return words(self, name)

    monkeypatch.setattr(Vocabulary, "words", recorded)
    Engine(load_knowledge(), vocabulary).explain("getting 550 when I upload, any idea?")
    unread = sorted(set(vocabulary.lists) - asked)
    assert unread == [], f"bundled word lists that nothing reads (dead data): {unread}"


def test_a_bad_regular_expression_is_reported_with_its_index(tmp_path: Path) -> None:
    found = problems(
        tmp_path, {"talk.toml": '[talk]\nresolved_patterns = ["works now", "fixed (in"]\n'}
    )
    assert [(p.file, p.field) for p in found] == [
        ("vocabulary/talk.toml", "talk.resolved_patterns[2]")
    ], "the second pattern, counted from 1, is the one that does not compile"
    assert "regular expression" in found[0].message, found[0]


def test_the_good_patterns_of_a_list_with_a_bad_one_are_kept(tmp_path: Path) -> None:
    vocabulary, _ = read_vocabulary(
        site(tmp_path, {"talk.toml": '[talk]\nresolved_patterns = ["works now", "fixed (in"]\n'})
    )
    assert "works now" in vocabulary.words("talk.talk.resolved_patterns")
    assert "fixed (in" not in vocabulary.words("talk.talk.resolved_patterns")


def test_a_cue_table_for_no_known_protocol_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, {"cues.toml": '[protocol.gopher]\nwords = ["gopher"]\n'})
    assert [(p.file, p.field) for p in found] == [("vocabulary/cues.toml", "protocol.gopher")]


def test_an_unknown_cue_field_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, {"cues.toml": '[protocol.ftp]\nwordz = ["acme"]\n'})
    assert [(p.file, p.field) for p in found] == [("vocabulary/cues.toml", "protocol.ftp.wordz")]


def test_a_prior_out_of_range_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, {"cues.toml": "[prior]\nftp = 3\n"})
    assert [(p.file, p.field) for p in found] == [("vocabulary/cues.toml", "prior.ftp")]
    assert "0 to 1" in found[0].message, found[0]


@pytest.mark.parametrize("table", ["prior", "scan"])
def test_a_cue_setting_that_is_not_a_table_is_named(tmp_path: Path, table: str) -> None:
    found = problems(tmp_path, {"cues.toml": f"{table} = 3\n"})
    assert [(p.file, p.field) for p in found] == [("vocabulary/cues.toml", table)], (
        f"'{table} = 3' should be one problem naming {table}, not a crash"
    )


def test_a_prior_that_is_true_or_false_is_not_a_number(tmp_path: Path) -> None:
    found = problems(tmp_path, {"cues.toml": "[prior]\nftp = true\n"})
    assert [(p.file, p.field) for p in found] == [("vocabulary/cues.toml", "prior.ftp")], (
        "true is not a leaning from 0 to 1"
    )


def test_loading_a_vocabulary_with_problems_raises_them_all(tmp_path: Path) -> None:
    folder = site(
        tmp_path,
        {"talk.toml": '[report]\nfirst_person = "me"\n', "cues.toml": "[prior]\nftp = 3\n"},
    )
    with pytest.raises(KnowledgeError) as raised:
        load_vocabulary(folder)
    fields = sorted(p.field for p in raised.value.problems)
    assert fields == ["prior.ftp", "report.first_person"], "every problem, not only the first"


def test_a_sites_word_list_adds_to_the_bundled_one(tmp_path: Path) -> None:
    bundled = load_vocabulary().words("talk.report.help")
    vocabulary = load_vocabulary(site(tmp_path, {"talk.toml": '[report]\nhelp = ["sos"]\n'}))
    words = vocabulary.words("talk.report.help")
    assert "sos" in words, "the site's word is read"
    assert set(bundled) <= set(words), "the bundled words are kept beside the site's"


def test_a_sites_cue_word_counts_for_its_protocol(tmp_path: Path) -> None:
    vocabulary = load_vocabulary(
        site(tmp_path, {"cues.toml": '[protocol.ftp]\nwords = ["acmedrop"]\n'})
    )
    text = "acmedrop stopped halfway"
    cues = read_cues(text, Triage(), vocabulary).protocols
    assert cues["ftp"] == 1, f"a site's own FTP client name should cue FTP: {dict(cues)}"
    assert "filezilla" in vocabulary.cue_words["ftp"], "the bundled FTP cue words are kept"


def test_a_pattern_list_finds_what_its_patterns_find() -> None:
    patterns = [r"\bfyi\b", r"\b(?:works?|worked) from home", r"(?m:^\s*nit:)"]
    listed = PatternList.of(patterns)
    for text in ("FYI: fixed", "it WORKED from home", "  nit: naming", "nothing here", "ſyi"):
        plain = any(re.search(pattern, text, re.I) for pattern in patterns)
        assert listed.search(text) == plain, text
    assert listed.search("Works from home, 家"), "a text beyond ASCII is searched in full"


def test_every_pattern_list_finds_what_its_patterns_find_in_the_labelled_messages() -> None:
    """The guards only skip texts none of a list's patterns can match: on the project's own
    labelled sets, each `_patterns` list of the vocabulary says what its plain patterns say."""
    texts = [
        json.loads(line)["text"]
        for path in sorted(OWN_CORPORA.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    vocabulary = load_vocabulary()
    names = [name for name in vocabulary.lists if name.endswith("_patterns")]
    assert names, "the vocabulary has pattern lists"
    for name in names:
        patterns = [re.compile(pattern, re.I) for pattern in vocabulary.words(name)]
        listed = PatternList.of(vocabulary.words(name))
        for text in texts:
            plain = any(pattern.search(text) for pattern in patterns)
            assert listed.search(text) == plain, (name, text[:80])


@pytest.mark.parametrize(
    ("pattern", "required"),
    [
        (r"^[^\n]{0,60}\b230\b", ("230",)),
        (r"\blogged in\b|\b(?:PASV|EPSV)\b", ("epsv", "pasv", "logge")),
        (r"\d+", ()),
        (r"(?:ab|)c", ("c",)),
        (r"\b(?:works?|worked|connects?)\b", ("work", "conne")),
        (r"\bfyi\b", ("fyi",)),
        (r"(?<![\w.])[1-3]\d\d", ("1", "2", "3")),
        (r"(?m:^\s*nit:)", ("nit:",)),
        (r"\b(?:ip )?allow-?list", ("allow",)),
        (r"\d\d\d (?:means|означает|heißt)", ("means",)),
        (r"\d\d\d (?:means|ſo)", (" ",)),  # "ſo" matches "so": kept, the space guards
    ],
    ids=[
        "after anything",
        "every alternative",
        "any digits",
        "an empty alternative",
        "alternatives",
        "a word",
        "a class",
        "after spaces",
        "after an optional start",
        "beside words no ASCII text holds",
        "beside a word an ASCII text matches",
    ],
)
def test_a_pattern_requires_the_strings_every_match_holds(
    pattern: str, required: tuple[str, ...]
) -> None:
    assert required_strings(re.compile(pattern, re.I | re.M)) == required, pattern


def test_a_guarded_pattern_finds_what_its_pattern_finds() -> None:
    guarded = GuardedPattern.compile(r"^[^\n]{0,60}\b230\b|\bentering passive mode", re.I | re.M)
    pattern = guarded.pattern
    for text in ("Response: 230 Logged on", "ENTERING PASSIVE MODE", "nothing here", "ſ 230 家"):
        found = [m.span() for m in guarded.finditer(text, text.lower())]
        assert found == [m.span() for m in pattern.finditer(text)], text
        assert guarded.count(text, text.lower()) == len(pattern.findall(text)), text
    assert not guarded.may_match("nothing here", "nothing here"), "no required string, no scan"


def test_pattern_lists_searched_together_are_compiled_once_per_vocabulary() -> None:
    vocabulary = load_vocabulary()
    names = ("talk.talk.resolved_patterns", "talk.talk.definition_patterns")
    compiled = vocabulary.patterns_of(names)
    assert compiled is vocabulary.patterns_of(names), "the second look-up reuses the first"
    assert compiled.named[0][1] == PatternList.of(vocabulary.words(names[0])), (
        "each list is the list's PatternList"
    )


def test_pattern_lists_searched_together_find_what_each_finds_alone() -> None:
    vocabulary = load_vocabulary()
    names = tuple(name for name in vocabulary.lists if name.startswith("situations."))
    together = vocabulary.patterns_of(names)
    for text in ("it works from home but not in the office", "since the migration, 550", "ſince"):
        alone = {n for n in names if PatternList.of(vocabulary.words(n)).search(text)}
        assert together.found(text, text.lower()) == alone, text


def test_a_file_nested_too_deeply_is_named(tmp_path: Path) -> None:
    found = problems(tmp_path, {"errors.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n"})
    assert [(p.file, p.message) for p in found] == [
        ("vocabulary/errors.toml", "is TOML nested too deeply to read")
    ], found
