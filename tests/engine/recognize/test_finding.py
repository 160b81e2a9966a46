"""Findings: merged into one per entry, with mentions counted and agreement rewarded."""

from __future__ import annotations

from bot.engine.knowledge import Entry
from bot.engine.recognize.finding import Finding, FindingKind, merge, normalize
from tests.support import bundled_kb


def entry(protocol: str, code: str) -> Entry:
    found = bundled_kb().get(protocol, code)
    assert found is not None, f"the bundled knowledge has {protocol} {code}"
    return found


def seen(
    of: Entry, confidence: float, start: int, kind: FindingKind = "code", matched: str = ""
) -> Finding:
    return Finding(of, confidence, (start, start + 5), kind, matched or of.code, (of,))


def test_two_mentions_of_one_entry_make_one_finding() -> None:
    empty = entry("sftp", "18")
    merged = merge([seen(empty, 0.7, 0), seen(empty, 0.7, 40)])
    assert len(merged) == 1, f"one entry seen twice is one finding: {merged}"
    assert merged[0].mentions == 2, "the finding counts how often it was seen"


def test_findings_of_different_entries_stay_apart() -> None:
    merged = merge([seen(entry("ftp", "530"), 0.8, 0), seen(entry("ftp", "421"), 0.8, 30)])
    assert sorted(f.entry.code for f in merged) == ["421", "530"], merged


def test_a_merged_finding_keeps_the_surest_mention_at_the_first_place() -> None:
    refused = entry("winsock", "10061")
    [merged] = merge([seen(refused, 0.6, 10, matched="first"), seen(refused, 0.8, 50)])
    assert merged.span[0] == 10, f"the span should point at the first mention: {merged.span}"
    assert merged.confidence > 0.8, f"the surest mention's confidence, raised: {merged.confidence}"


def test_a_number_and_a_wording_that_agree_corroborate_each_other() -> None:
    empty = entry("sftp", "18")
    [merged] = merge([seen(empty, 0.7, 0, "code"), seen(empty, 0.7, 30, "phrase")])
    assert merged.corroborated, "'Error code: 18' and 'Directory not empty' are two witnesses"


def test_agreement_counts_for_more_than_the_same_evidence_twice() -> None:
    empty = entry("sftp", "18")
    [twice] = merge([seen(empty, 0.7, 0, "code"), seen(empty, 0.7, 30, "code")])
    [agreed] = merge([seen(empty, 0.7, 0, "code"), seen(empty, 0.7, 30, "phrase")])
    assert not twice.corroborated, "one number seen twice is one kind of evidence"
    assert agreed.confidence > twice.confidence > 0.7, (
        f"a number and a wording ({agreed.confidence}) should count for more than the number "
        f"twice ({twice.confidence}), and that for more than once"
    )


def test_a_merged_confidence_stays_below_certainty() -> None:
    empty = entry("sftp", "18")
    [merged] = merge([seen(empty, 0.98, 0, "code"), seen(empty, 0.98, 30, "phrase")])
    assert merged.confidence < 1, f"no evidence makes a reading certain: {merged.confidence}"


def test_normalized_wordings_compare_equal_whatever_their_case_and_punctuation() -> None:
    assert normalize("FileNotFound") == normalize("file not found."), (
        "a CamelCase name and a sentence of the same words should normalize alike"
    )


def test_a_dotless_i_typed_on_a_turkish_keyboard_reads_as_an_i() -> None:
    assert normalize("PKIX yolu oluşturma: pkıx path building failed") == normalize(
        "PKIX yolu oluşturma: PKIX path building failed"
    )
