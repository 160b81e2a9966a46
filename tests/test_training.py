"""Training the decision model: the same labelled messages give the same model file, the reply
threshold keeps false replies within the rate, and no source thread sits on both sides of a
fold. The labelled set is written here, small enough to train in a few seconds."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.engine import Engine, load_model
from bot.training import (
    CURVE_SHARES,
    OUTER_FOLDS,
    TRAINING_THREADS,
    UNTRAINED,
    Figures,
    Observed,
    _fit_linear,
    _folds,
    _share_of_threads,
    frequent_words,
    observe,
    threshold_for,
)
from tests.support import bundled_kb, engine

needs_scikit_learn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None,
    reason="scikit-learn (the train extra) is not installed: pip install '.[train]'",
)

# (thread, text, target or None when no reply is wanted). Two messages a thread, mostly.
LABELLED = [
    ("t1", "Response: 530 Login incorrect. I typed the password twice, what now?", "ftp 530"),
    ("t1", "Thanks, the 530 went away once the account was unlocked.", None),
    ("t2", "FileZilla upload stops with 553 File name not allowed", "ftp 553"),
    ("t2", "Renaming the file without the colon fixed the 553 for me.", None),
    ("t3", "sftp put fails with SSH_FX_PERMISSION_DENIED on /incoming", "sftp 3"),
    ("t3", "docs: what SSH_FX_PERMISSION_DENIED means and who can change it", None),
    ("t4", "read ECONNRESET after about ten idle minutes, every time", "winsock 10054"),
    ("t4", "fix: retry the transfer once on ECONNRESET", None),
    (
        "t5",
        "Error: Connection timed out after 20 seconds of inactivity\nError: Could not "
        "retrieve directory listing",
        "winsock 10060",
    ),
    ("t5", "Should the client wait longer than 20 seconds before it times out?", None),
    ("t6", "The nightly backup gets HTTP/1.1 413 Payload Too Large from the proxy", "http 413"),
    ("t6", "We now map 413 to a clearer message in the uploader.", None),
    ("t7", "Error: 421 Too many connections from this IP, how do I get past it?", "ftp 421"),
    ("t7", "Release 3.2: a limit on parallel connections avoids the 421 replies", None),
    ("t8", "getaddrinfo ENOTFOUND files.example.net and nothing connects", "winsock 11001"),
    ("t8", "In the FAQ, ENOTFOUND is explained as a DNS lookup that failed.", None),
    ("t9", "Response: 550 Permission denied. when we STOR into /out", "ftp 550"),
    ("t9", "550 is what the server says for a missing folder as well as for rights.", None),
    ("t10", "Response: 425 Can't open data connection. in passive mode", "ftp 425"),
    ("t10", "Does 425 always mean the firewall, or can it be the client?", None),
    ("t11", "226 Transfer complete.", None),
    ("t12", "connect ETIMEDOUT 192.0.2.44:21 from the office network", "winsock 10060"),
]


def write_corpus(folder: Path) -> Path:
    path = folder / "labelled.jsonl"
    lines = []
    for number, (thread, text, target) in enumerate(LABELLED, start=1):
        protocol, _, code = (target or "").partition(" ")
        lines.append(
            json.dumps(
                {
                    "id": f"m{number}",
                    "text": text,
                    "expect_reply": target is not None,
                    "target": {"protocol": protocol, "code": code} if target else None,
                    "source": f"https://example.org/issues/{thread}#comment-{number}",
                }
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _bundled_knowledge_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ERRDESK_KNOWLEDGE_DIR", "ERRDESK_MODEL"):
        monkeypatch.delenv(name, raising=False)


def observed(folder: Path) -> list[Observed]:
    """The labelled messages written to `folder`, as training observes them."""
    return observe(Engine(bundled_kb(), engine().vocabulary, UNTRAINED), [write_corpus(folder)])


def train_to(corpus: Path, out: Path) -> bytes:
    assert main(["model", "train", str(corpus), "--out", str(out)]) == 0, "training should work"
    return out.read_bytes()


@needs_scikit_learn
def test_training_twice_on_the_same_messages_writes_the_same_model_file(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    first = train_to(corpus, tmp_path / "first.json")
    second = train_to(corpus, tmp_path / "second.json")
    assert first == second, "the same labelled messages should give the same model, byte for byte"


@needs_scikit_learn
def test_a_trained_model_file_is_one_a_site_can_use(tmp_path: Path) -> None:
    model_file = tmp_path / "site_model.json"
    train_to(write_corpus(tmp_path), model_file)
    model = load_model(model_file)
    assert model.source == "site", "ERRDESK_MODEL names a site's model"
    assert model.trained_on["messages"] == len(LABELLED), model.trained_on
    assert model.reply.weights, "the reply model learned some weights from the messages"


@needs_scikit_learn
def test_folds_never_split_one_source_thread(tmp_path: Path) -> None:
    items = observed(tmp_path)
    folds = _folds(items, OUTER_FOLDS)
    assert len(folds) == OUTER_FOLDS
    for train, test in folds:
        split = {items[i].group for i in train} & {items[i].group for i in test}
        assert not split, f"a thread's messages sit on both sides of a fold: {sorted(split)}"
    tested = sorted(i for _, test in folds for i in test)
    assert tested == list(range(len(items))), "every message is scored in exactly one fold"


@needs_scikit_learn
@pytest.mark.parametrize("seed", [1, 2])
def test_reshuffled_folds_keep_threads_whole_and_score_each_message_once(
    tmp_path: Path, seed: int
) -> None:
    items = observed(tmp_path)
    folds = _folds(items, OUTER_FOLDS, seed)
    for train, test in folds:
        split = {items[i].group for i in train} & {items[i].group for i in test}
        assert not split, f"a thread's messages sit on both sides of a fold: {sorted(split)}"
    tested = sorted(i for _, test in folds for i in test)
    assert tested == list(range(len(items))), "every message is scored in exactly one fold"
    assert folds == _folds(items, OUTER_FOLDS, seed), "a seed deals the threads the same way"


@needs_scikit_learn
def test_a_reshuffled_split_deals_the_threads_otherwise_than_the_fixed_one(
    tmp_path: Path,
) -> None:
    items = observed(tmp_path)
    tested = [sorted(test) for _, test in _folds(items, OUTER_FOLDS)]
    reshuffled = [sorted(test) for _, test in _folds(items, OUTER_FOLDS, 1)]
    assert sorted(tested) != sorted(reshuffled), "seed 1 should cut the threads elsewhere"


@needs_scikit_learn
def test_errdesk_model_report_on_several_splits_prints_each_and_their_mean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "report", str(write_corpus(tmp_path)), "--splits", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split()[0] for line in lines if line.startswith(("fixed", "seed", "mean"))]
    assert rows == ["fixed", "seed", "seed", "mean"], f"a row a split, then the mean: {lines}"


@needs_scikit_learn
def test_errdesk_model_curve_prints_a_row_a_share_with_more_messages_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "curve", str(write_corpus(tmp_path)), "--splits", "2"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] != ["share"]]
    rows = [row for row in rows if row and row[0].removesuffix("%").isdigit()]
    assert [row[0] for row in rows] == [f"{share:.0%}" for share in CURVE_SHARES], out
    trained = [float(row[1]) for row in rows]
    assert trained == sorted(trained), f"a larger share trains on more messages: {out}"
    assert trained[0] < trained[-1], f"the smallest share trains on fewer than all: {out}"
    assert "mean of 2 split(s)" in out, f"the splits averaged over are named: {out}"


@needs_scikit_learn
def test_a_share_of_threads_keeps_threads_whole_and_grows_from_the_smaller_share(
    tmp_path: Path,
) -> None:
    items = observed(tmp_path)
    shares = [_share_of_threads(items, share) for share in CURVE_SHARES]
    threads = [{item.group for item in kept} for kept in shares]
    for kept, groups in zip(shares, threads, strict=True):
        whole = [item for item in items if item.group in groups]
        assert kept == whole, "a thread is kept with all its messages or not at all"
    for smaller, larger in itertools.pairwise(threads):
        assert smaller < larger, f"a larger share adds threads to the smaller: {smaller} {larger}"
    assert shares[-1] == items, "the whole share is every message"


@needs_scikit_learn
def test_the_smallest_share_still_holds_enough_threads_to_fit_on(tmp_path: Path) -> None:
    items = observed(tmp_path)
    kept = _share_of_threads(items, 0.01)
    assert len({item.group for item in kept}) == TRAINING_THREADS, "the fewest training needs"


@needs_scikit_learn
def test_messages_with_no_error_found_train_a_model_that_stays_quiet(tmp_path: Path) -> None:
    corpus = tmp_path / "chat.jsonl"
    chat = ["lunch at 12?", "thanks, works now", "deploy done", "see you tomorrow"]
    corpus.write_text(
        "".join(
            json.dumps({"id": f"c{n}", "text": text, "expect_reply": False, "source": f"t{n}"})
            + "\n"
            for n, text in enumerate(chat)
        ),
        encoding="utf-8",
    )
    model_file = tmp_path / "model.json"
    train_to(corpus, model_file)  # nothing to rank or weigh: no traceback
    model = load_model(model_file)
    assert not model.rank.weights, "no finding to rank: nothing learned"
    assert model.reply.probability({}) < model.threshold, "with no report to learn from, quiet"


def test_errdesk_model_report_refuses_a_split_count_under_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["model", "report", str(write_corpus(tmp_path)), "--splits", "0"])
    assert "whole number from 1 up" in capsys.readouterr().err, "the option's error says why"


def test_the_threshold_keeps_false_replies_within_the_rate() -> None:
    # (probability, wants a reply): 4 messages want none, so a rate of 25% allows one.
    scored = [(0.9, True), (0.8, False), (0.7, True), (0.6, False), (0.5, True), (0.3, False)]
    threshold = threshold_for(scored, negatives=4, false_rate=0.25)
    false_replies = sum(1 for p, positive in scored if p >= threshold and not positive)
    assert false_replies <= 1, f"at {threshold}, {false_replies} false replies of 4 is over 25%"
    assert threshold == 0.7, f"0.7 is the lowest threshold with one false reply: {threshold}"


def test_a_rate_of_zero_allows_no_false_reply() -> None:
    scored = [(0.9, True), (0.8, False), (0.7, True)]
    threshold = threshold_for(scored, negatives=1, false_rate=0.0)
    assert threshold > 0.8, f"replying at {threshold} would answer the message wanting none"


def test_a_message_wanting_no_reply_tied_with_one_wanting_one_is_not_replied_to() -> None:
    scored = [(0.9, True), (0.8, True), (0.8, False)]
    threshold = threshold_for(scored, negatives=1, false_rate=0.0)
    false_replies = sum(1 for p, positive in scored if p >= threshold and not positive)
    assert false_replies == 0, (
        f"at {threshold} the negative scored 0.8 gets a reply, though the rate allows none"
    )


@needs_scikit_learn
def test_a_feature_of_one_value_is_weighed_as_a_constant() -> None:
    # 0.1 seven times has a float variance of about 1e-34: scaled by its root, the feature
    # would be standardized into noise and saved with a scale rounded to 0.
    rows = [{"length": 0.1, "question": float(i % 2)} for i in range(7)]
    model = _fit_linear(rows, [i % 2 for i in range(7)], ("length", "question"))
    assert "length" not in model.weights, f"a constant feature got a weight: {model.weights}"
    asking, telling = ({"length": 0.1, "question": value} for value in (1.0, 0.0))
    assert model.probability(asking) > model.probability(telling), "the feature that varies counts"


def test_a_report_row_with_nothing_to_count_shows_no_share() -> None:
    chat = Figures(messages=3, negatives=3)
    row = chat.row("chat")
    assert "100.0%" not in row, f"no message wants a reply, so there is no recall to show: {row}"
    assert row.split()[-1] == "0.0%", f"the false replies of the three are counted: {row}"


def test_frequent_words_are_those_of_enough_messages_whatever_their_labels(
    tmp_path: Path,
) -> None:
    words = frequent_words([write_corpus(tmp_path)], min_messages=4)
    assert "the" in words, f"'the' is in more than four of the messages: {words}"
    assert "econnreset" not in words, "a word of two messages is too rare to weigh"
    assert words == sorted(words), "listed in order, as the vocabulary file keeps them"


def test_errdesk_model_words_prints_a_vocabulary_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "words", str(write_corpus(tmp_path)), "--min-messages", "4"]) == 0
    listed = capsys.readouterr().out.splitlines()[-1]
    assert listed.startswith("frequent = ["), listed
    assert json.loads(listed.removeprefix("frequent = ")) == frequent_words(
        [write_corpus(tmp_path)], min_messages=4
    )


@needs_scikit_learn
@pytest.mark.parametrize("verb", ["train", "report", "curve"])
def test_too_few_threads_to_cross_validate_on_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    corpus = tmp_path / "one.jsonl"
    corpus.write_text(
        json.dumps({"id": "a", "text": "550 Permission denied", "expect_reply": True}) + "\n",
        encoding="utf-8",
    )
    out = ["--out", str(tmp_path / "model.json")] if verb == "train" else []
    assert main(["model", verb, str(corpus), *out]) == 2, "a corpus too small is a usage error"
    error = capsys.readouterr().err
    assert "source threads" in error, f"the error should say what is missing: {error}"
    assert "Traceback" not in error, error
