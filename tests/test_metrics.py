"""Metrics: what observe_request counts, times and logs, and the exposition formats."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import metrics
from tests.support import logged

TEST_KIND = "test-kind"


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_observe_request_counts_and_times_the_request() -> None:
    requests_before = sample("errdesk_requests_total", kind=TEST_KIND, outcome="replied")
    fast_before = sample("errdesk_handling_seconds_bucket", kind=TEST_KIND, le="0.01")
    slow_before = sample("errdesk_handling_seconds_bucket", kind=TEST_KIND, le="3.0")

    metrics.observe_request(TEST_KIND, "replied", 2.5)

    assert sample("errdesk_requests_total", kind=TEST_KIND, outcome="replied") == (
        requests_before + 1
    )
    assert sample("errdesk_handling_seconds_bucket", kind=TEST_KIND, le="0.01") == fast_before
    assert sample("errdesk_handling_seconds_bucket", kind=TEST_KIND, le="3.0") == slow_before + 1


def test_observe_request_logs_one_line_with_kind_outcome_and_latency_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.requests"):
        metrics.observe_request("mention", "unrecognized", 0.0421)
    (record,) = logged(caplog, "bot.requests")
    assert record.getMessage() == "handled mention: unrecognized in 42.1 ms"
    assert (record.kind, record.outcome, record.latency_ms) == ("mention", "unrecognized", 42.1)


def test_latency_buckets_span_a_millisecond_to_slacks_three_seconds() -> None:
    metrics.LATENCY.labels(kind="bucket-check").observe(0.0005)
    text = metrics.exposition()[0].decode()
    assert 'errdesk_handling_seconds_bucket{kind="bucket-check",le="0.001"} 1.0' in text
    assert 'errdesk_handling_seconds_bucket{kind="bucket-check",le="3.0"} 1.0' in text


def test_every_metric_is_exposed_in_prometheus_text_format() -> None:
    metrics.REPLIES.labels(verdict="admin", protocol="ftp").inc()
    metrics.UNRECOGNIZED.labels(kind="mention").inc()
    metrics.SLACK_API_ERRORS.labels(method="chat.postMessage", error="not_in_channel").inc()
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain; version=")
    text = body.decode()
    for name in (
        "errdesk_requests_total",
        'errdesk_replies_total{protocol="ftp",verdict="admin"}',
        'errdesk_unrecognized_total{kind="mention"}',
        'errdesk_slack_api_errors_total{error="not_in_channel",method="chat.postMessage"}',
        "errdesk_handling_seconds_bucket",
    ):
        assert name in text


def test_several_worker_processes_are_summed_with_a_multiprocess_folder(tmp_path: Path) -> None:
    worker = "from bot import metrics; metrics.observe_request('mention', 'replied', 0.01)"
    scrape = "from bot import metrics; print(metrics.exposition()[0].decode())"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=30)
    scraped = subprocess.run(
        [sys.executable, "-c", scrape], env=env, check=True, timeout=30, capture_output=True
    )
    assert 'errdesk_requests_total{kind="mention",outcome="replied"} 2.0' in scraped.stdout.decode()
