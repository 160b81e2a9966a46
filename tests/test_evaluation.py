"""bot/evaluation.py: the tallies behind `errdesk eval` and `errdesk model report`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import Case, CorpusError, ReplyCounts, evaluate, load_cases
from tests.support import engine


def test_reply_counts_separate_wanted_from_unwanted_replies() -> None:
    counts = ReplyCounts()
    for expect_reply, replied in [(True, True), (True, False), (False, True), (False, False)]:
        counts.count_reply(expect_reply, replied)
    assert (counts.reply_recall, counts.false_reply_rate) == (0.5, 0.5), counts
    assert counts.reply_precision == 0.5, counts


def test_nothing_counted_is_no_recall_and_no_false_replies() -> None:
    counts = ReplyCounts()
    assert (counts.reply_recall, counts.false_reply_rate, counts.reply_precision) == (0, 0, 1)


def test_evaluate_breaks_the_figures_down_by_kind() -> None:
    cases = [
        Case("r1", "Response: 530 Login incorrect.", True, ("ftp", "530"), kind="log"),
        Case("c1", "thanks, the upload works now", False, None, kind="chat"),
    ]
    report = evaluate(engine(), cases)
    assert set(report.by_kind) == {"log", "chat"}, report.render()
    assert report.by_kind["chat"].negatives == 1, report.render()
    assert report.cases == len(cases), report.render()
    assert report.positives == 1, report.render()


def test_a_source_with_a_fragment_answers_inside_its_thread() -> None:
    comment = Case("c2", "still 530", True, None, source="https://git.example/i/7#comment-3")
    opening = Case("o1", "530 again", True, None, source="https://git.example/i/7")
    assert comment.conversation.in_thread, "a comment's anchor places it inside the thread"
    assert comment.conversation.from_thread_starter, "no rule may silence an unknown author"
    assert not opening.conversation.in_thread, "the thread's own URL is its opening message"


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("[1]", 'not an object with a "text" string'),
        ('{"text": 5, "expect_reply": false}', 'not an object with a "text" string'),
        ('{"text": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
)
def test_a_corpus_line_that_is_not_a_labelled_message_is_named(
    tmp_path: Path, line: str, said: str
) -> None:
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text('{"text": "x", "expect_reply": false, "target": null}\n' + line + "\n")
    with pytest.raises(CorpusError) as raised:
        load_cases(corpus)
    assert f"{corpus}: line 2" in str(raised.value), raised.value
    assert said in str(raised.value), raised.value
