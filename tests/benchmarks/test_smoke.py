"""The benchmarks run: each part with small counts prints its figures into the one table.

No timing is asserted here; speed is what the benchmarks measure, and a timed test on a shared
machine would only be flaky. What is asserted is that every part runs end to end and reports a
figure and a verdict for each of its targets.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.__main__ import main
from benchmarks.common import DEV_CORPUS
from benchmarks.logs import STYLES, generate_log
from bot.engine import Engine, load_knowledge

FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:µs|ms|s|MB/s|x|%)")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main([*argv, "--quick"]) == 0
    return capsys.readouterr().out


def test_recognition_prints_times_ratios_and_quality(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "recognition")
    for name in ("errdesk", "first-code peer", "fuzzy peer"):
        assert re.search(rf"chat x\d+: {name}\s+median / p99 per message\s+{FIGURE.pattern}", out)
    assert "time ratio, median (p99)" in out
    if DEV_CORPUS.is_file():
        assert "decisive accuracy / false replies" in out
    else:
        assert "not found" in out
    assert re.search(r"median <= 100 µs\s+(PASS|MISS)", out)
    assert re.search(rf"the decision's cost\)\s+{FIGURE.pattern}\s+<= 1.2x\s+(PASS|MISS)", out)


def test_triage_prints_throughput_memory_and_growth(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "triage")
    assert re.search(r"throughput over the input\s+\d+(\.\d+)? MB/s", out)
    assert "peak memory (tracemalloc)" in out
    assert re.search(r"time growth per 10x lines\s+\d+(\.\d+)?x", out)
    assert "the planted failure" in out


@pytest.mark.e2e
def test_end_to_end_serves_both_apps(capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "e2e", "--events", "20", "--rate", "50")
    if "skipped" in out:
        pytest.skip("errdesk serve is not available in this checkout")
    assert re.search(r"errdesk, 20 events at 50/s\s+ack latency p50 / p95 / p99", out)
    assert re.search(r"minimal Bolt, 20 events at 50/s\s+ack latency p50 / p95 / p99", out)
    assert re.search(r"errors: not 200 / no reply \(reconnects\)\s+0 / 0", out)
    assert "ack latency ratio p99 (p50)" in out


def test_an_unknown_part_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["speed"])
    assert "unknown part" in capsys.readouterr().err


FAILING_REPLY = re.compile(r"^(?:Response:\t|< \S+ \S+ )[45]\d\d ")


@pytest.mark.parametrize("style", STYLES)
def test_generated_logs_have_one_failure_near_the_end_and_the_engine_names_it(
    style: str,
) -> None:
    log = generate_log(300, style)
    lines = log.text.splitlines()
    assert len(lines) == log.lines == 300
    failing = [index for index, line in enumerate(lines) if FAILING_REPLY.match(line)]
    assert failing == [log.failure_line]
    assert log.failure_line > 290
    answer = Engine(load_knowledge()).explain(log.text)
    assert answer.decisive is not None
    assert answer.decisive.key == log.expected
