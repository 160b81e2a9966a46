"""The decision model file: refused with one clear error when it cannot be used, and the
arithmetic `--why` reports (interactions, contributions) as the model computes it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bot.engine import load_engine
from bot.engine.model import (
    SHIPPED_MODEL,
    DecisionModel,
    LinearModel,
    ModelError,
    feature_value,
    load_model,
    model_from_dict,
)
from tests.support import engine

# A model that weighs no feature.
NOTHING_WEIGHED = LinearModel(0.0, {}, {}, {})


def shipped() -> dict[str, Any]:
    return json.loads(SHIPPED_MODEL.read_text(encoding="utf-8"))


def refusal(tmp_path: Path, content: str) -> str:
    """The message load_model gives for a model file holding `content`."""
    path = tmp_path / "site_model.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ModelError) as raised:
        load_model(path)
    message = str(raised.value)
    assert message.startswith(str(path)), f"the error should name the file first: {message}"
    assert "\n" not in message, f"the error should be one line: {message!r}"
    return message


def changed(**fields: Any) -> str:
    return json.dumps({**shipped(), **fields})


def test_the_shipped_model_loads() -> None:
    model = load_model()
    assert model.source == "shipped"
    assert 0 < model.threshold < 1, model.threshold


def test_a_site_model_loads_as_the_sites(tmp_path: Path) -> None:
    path = tmp_path / "site_model.json"
    path.write_text(json.dumps(shipped()), encoding="utf-8")
    model = load_model(path)
    assert model.source == "site", "a model named by ERRDESK_MODEL is the site's"
    assert model.reply.weights == load_model().reply.weights


def test_a_model_survives_writing_and_reading() -> None:
    model = load_model()
    again = model_from_dict(json.loads(json.dumps(model.to_dict())), "again")
    assert again.rank == model.rank, "the rank model should read back as written"
    assert again.reply == model.reply, "the reply model should read back as written"
    assert again.threshold == model.threshold


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    with pytest.raises(ModelError, match="cannot be read") as raised:
        load_model(path)
    assert str(path) in str(raised.value), f"the error should name the file: {raised.value}"


def test_a_model_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    assert "is not a JSON file" in refusal(tmp_path, '{"format": "errdesk-decision-model",')


def test_a_model_file_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    assert "expected a JSON object" in refusal(tmp_path, "[1, 2, 3]")


def test_a_model_of_another_format_is_refused(tmp_path: Path) -> None:
    assert "field 'format'" in refusal(tmp_path, changed(format="sklearn-pickle"))


def test_a_model_of_another_version_is_refused(tmp_path: Path) -> None:
    assert "field 'version'" in refusal(tmp_path, changed(version=99))


@pytest.mark.parametrize("threshold", [0, 1, 1.5, -0.2, "0.5", True, None])
def test_a_threshold_outside_zero_and_one_is_refused(tmp_path: Path, threshold: Any) -> None:
    message = refusal(tmp_path, changed(threshold=threshold))
    assert "field 'threshold'" in message, message
    assert "between 0 and 1" in message, f"the error should say what is expected: {message}"


def test_a_weight_of_an_unknown_feature_is_refused(tmp_path: Path) -> None:
    data = shipped()
    data["reply"]["weights"]["moon_phase"] = 0.5
    message = refusal(tmp_path, json.dumps(data))
    assert "field 'reply'.weights" in message, f"the error should name the table: {message}"
    assert "'moon_phase'" in message, f"the error should name the feature: {message}"


def test_an_interaction_of_an_unknown_feature_is_refused(tmp_path: Path) -> None:
    data = shipped()
    data["reply"]["weights"]["x:question*moon_phase"] = 0.5
    assert "unknown feature 'x:question*moon_phase'" in refusal(tmp_path, json.dumps(data))


def test_a_rank_feature_in_the_reply_model_is_refused(tmp_path: Path) -> None:
    data = shipped()
    data["reply"]["means"]["first_failure"] = 0.5
    assert "unknown feature 'first_failure'" in refusal(tmp_path, json.dumps(data)), (
        "first_failure is a feature of the rank model, not of the reply model"
    )


def test_a_word_feature_of_any_word_is_accepted(tmp_path: Path) -> None:
    data = shipped()
    data["reply"]["weights"]["word:meanwhile"] = 0.1
    path = tmp_path / "site_model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_model(path).reply.weights["word:meanwhile"] == 0.1, (
        "the discourse words are the site's vocabulary: any word may have a weight"
    )


@pytest.mark.parametrize("scale", [0, -1.5])
def test_a_scale_that_is_not_positive_is_refused(tmp_path: Path, scale: float) -> None:
    data = shipped()
    feature = next(iter(data["rank"]["scales"]))
    data["rank"]["scales"][feature] = scale
    message = refusal(tmp_path, json.dumps(data))
    assert "field 'rank'.scales" in message, f"the error should name the table: {message}"


def test_a_bias_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    data = shipped()
    data["rank"]["bias"] = "high"
    assert "field 'rank'.bias" in refusal(tmp_path, json.dumps(data))


def test_a_model_without_its_reply_part_is_refused(tmp_path: Path) -> None:
    data = shipped()
    del data["reply"]
    assert "field 'reply'" in refusal(tmp_path, json.dumps(data))


def test_a_bad_site_model_is_one_warning_and_the_shipped_model_answers(tmp_path: Path) -> None:
    path = tmp_path / "site_model.json"
    path.write_text("not a model", encoding="utf-8")
    warnings: list[str] = []
    site_engine = load_engine(model_path=path, warn=warnings.append)
    assert len(warnings) == 1, f"one warning, not one per use: {warnings}"
    assert warnings[0].startswith("ERRDESK_MODEL:"), f"the warning names the variable: {warnings}"
    assert str(path) in warnings[0], f"the warning names the file: {warnings}"
    assert site_engine.model.source == "shipped", "the shipped model answers instead"
    assert site_engine.explain("read ECONNRESET").decisive is not None, "errdesk still answers"


def test_an_interaction_feature_is_the_product_of_its_two() -> None:
    features = {"question": 1.0, "log_lines": 0.25}
    assert feature_value(features, "x:question*log_lines") == 0.25


def test_an_interaction_with_an_absent_feature_is_zero() -> None:
    assert feature_value({"question": 1.0}, "x:question*log_lines") == 0, (
        "a pair holds only when both of its features do"
    )


def test_contributions_are_standardized_values_times_weights() -> None:
    model = LinearModel(
        bias=0.5,
        weights={"question": 2.0, "links": -1.0},
        means={"question": 0.5, "links": 1.0},
        scales={"question": 0.5, "links": 2.0},
    )
    pushes = {c.feature: c.push for c in model.contributions({"question": 1.0, "links": 3.0})}
    # question: (1 - 0.5) / 0.5 * 2 = 2; links: (3 - 1) / 2 * -1 = -1
    assert pushes == {"question": 2.0, "links": -1.0}


def test_a_model_weighs_both_features_of_its_pairs() -> None:
    model = LinearModel(0.0, {"question": 1.0, "x:links*log_lines": 0.5}, {}, {})
    assert model.weighed == {"question", "links", "log_lines"}, model.weighed


# Two codes each defined: a glossary, a scan of the whole message to find.
GLOSSARY = "10054 is connection reset by peer, 10053 is software caused connection abort"


def test_a_feature_the_model_does_not_weigh_is_left_at_zero() -> None:
    reader = engine().features
    unweighed = reader.for_model(DecisionModel(NOTHING_WEIGHED, NOTHING_WEIGHED, 0.5))
    assert reader.shape(GLOSSARY).features["glossary"] == 1.0, "the full reader reads it"
    assert unweighed.shape(GLOSSARY).features["glossary"] == 0.0, "what adds 0 is not read"


def test_a_feature_the_model_weighs_is_read() -> None:
    weighing = LinearModel(0.0, {"glossary": 1.0}, {}, {})
    reader = engine().features.for_model(DecisionModel(NOTHING_WEIGHED, weighing, 0.5))
    assert reader.shape(GLOSSARY).features["glossary"] == 1.0, "a weighed feature is read"


def test_contributions_and_the_bias_sum_to_the_logit() -> None:
    bundled = engine()
    text = "I keep getting 550 Permission denied when I upload with FileZilla, any idea?"
    source, cues, findings = bundled.observe(text, asked=False)
    shape = bundled.features.shape(source.text)
    decisive = bundled.decider.decisive(findings, source.text, cues, shape)
    features = bundled.features.reply_features(decisive, findings, source.text, shape)
    reply = bundled.model.reply
    total = reply.bias + sum(c.push for c in reply.contributions(features))
    probability = reply.probability(features)
    assert math.isclose(total, math.log(probability / (1 - probability)), abs_tol=1e-9), (
        "the pushes `--why` shows, and the bias, should add up to the score the model decides on"
    )


def rank_features(text: str) -> dict[tuple[str, str], dict[str, float]]:
    """Each finding's rank features, by the finding's entry."""
    reader = engine().features
    _, cues, findings = engine().observe(text, asked=False)
    shape = reader.shape(text)
    return {f.entry.key: reader.rank_features(f, findings, text, cues, shape) for f in findings}


CURL_QUOTING_A_REPLY = (
    "$ curl -T backup.tar ftp://files.example.net/\ncurl: (25) Failed FTP upload: 552"
)


CURL_QUOTING_A_REFUSAL = (
    "connect to 198.51.100.7 port 21 failed: Connection refused\n"
    "curl: (7) Failed to connect to files.example.net port 21: Connection refused"
)


def test_a_server_reply_quoted_after_a_wrapper_code_is_marked_quoted() -> None:
    features = rank_features(CURL_QUOTING_A_REPLY)
    assert features[("ftp", "552")].get("quoted_by_wrapper") == 1.0, features


def test_a_wrapper_code_whose_line_quotes_a_reply_is_marked_quoting() -> None:
    features = rank_features(CURL_QUOTING_A_REPLY)
    assert features[("curl", "25")].get("wrapper_quoting") == 1.0, features


def test_a_socket_error_worded_after_a_wrapper_code_is_marked_quoted() -> None:
    features = rank_features(CURL_QUOTING_A_REFUSAL)
    assert features[("winsock", "10061")].get("quoted_by_wrapper") == 1.0, features


def test_a_wrapper_code_alone_quotes_nothing() -> None:
    features = rank_features("curl: (6) Could not resolve host: files.example.net")
    assert not features[("curl", "6")].get("wrapper_quoting"), features


def test_a_finding_in_a_line_of_source_code_is_marked_so() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "transfer.py", line 40, in fetch\n'
        "    raise ConnectionResetError()\n"
        "paramiko.ssh_exception.SSHException: Error reading SSH protocol banner"
    )
    features = rank_features(text)
    assert features[("winsock", "10054")].get("in_source_line") == 1.0, features
    assert not features[("ssh", "10")].get("in_source_line"), features


def test_a_wording_on_the_line_of_a_reply_code_is_marked_as_its_text() -> None:
    features = rank_features("upload stopped: Permission denied.[550]")
    assert features[("sftp", "3")].get("wording_beside_code") == 1.0, features


def test_a_wording_beside_a_small_number_is_not_marked_as_its_text() -> None:
    features = rank_features("transfer_failed (err: 7) - Failed to connect to files.example.net")
    assert not features[("curl", "7")].get("wording_beside_code"), features


def shape_features(text: str) -> dict[str, float]:
    return engine().features.shape(text).features


@pytest.mark.parametrize(
    "title",
    [
        "[zh-tw]: translate HTTP status 507",
        "GUAC-1323: Send proper status codes for SFTP errors",
        "fix(module: upload): treat 2xx response codes as success",
        "feat!: drop the retry on 421",
    ],
)
def test_a_change_verb_after_a_scope_or_ticket_prefix_starts_a_change(title: str) -> None:
    features = shape_features(title)
    assert features["starts_with_change_verb"] == 1.0, f"{title!r} reads as a change title"


def test_a_full_width_question_mark_asks_a_question() -> None:
    features = shape_features("上传总是出现 read ECONNRESET 有小伙伴知道什么原因吗？还是不行")
    assert features["question"] == 1.0, "the full-width question mark of Chinese asks a question"


def reply_features(text: str) -> dict[str, float]:
    """The reply features of a message's first finding."""
    reader = engine().features
    _, _, findings = engine().observe(text, asked=False)
    return reader.reply_features(findings[0], findings, text, reader.shape(text))


@pytest.mark.parametrize("text", ["Connection reset by peer", '> "530 Login incorrect."'])
def test_an_error_pasted_as_the_first_words_opens_the_message(text: str) -> None:
    assert reply_features(text)["finding_opens_message"] == 1.0, f"{text!r} opens with its error"


@pytest.mark.parametrize("text", ["humanize ECONNREFUSED error", "Fix: retry on 421 replies"])
def test_an_error_after_words_of_the_writer_does_not_open_the_message(text: str) -> None:
    assert reply_features(text)["finding_opens_message"] == 0.0, f"{text!r} opens with words"


def test_a_model_file_nested_too_deeply_is_refused(tmp_path: Path) -> None:
    deep = '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert "nested too deeply" in refusal(tmp_path, deep)
