"""Prometheus metrics for operators, and the one log line per handled request.

The metrics live on their own REGISTRY so that tests and embedding apps do not collide with
the process-wide default registry.

Several gunicorn workers: each worker process counts on its own, and a scrape of /metrics
reaches only one of them. To see the sum, set PROMETHEUS_MULTIPROC_DIR to an empty folder
that exists before the server starts (wiped at each start); `exposition()` then aggregates
the files all workers write there. The server must call
`prometheus_client.multiprocess.mark_process_dead(pid)` when a worker exits. Counters and
histograms work in that mode; the Python process metrics (CPU, memory) do not.
"""

from __future__ import annotations

import logging
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

log = logging.getLogger("bot.requests")

REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "errdesk_requests_total",
    "Requests handled, by kind (mention, message, command, action...) and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
REPLIES = Counter(
    "errdesk_replies_total",
    "Explanations posted, by the decisive entry's verdict and protocol.",
    ["verdict", "protocol"],
    registry=REGISTRY,
)
UNRECOGNIZED = Counter(
    "errdesk_unrecognized_total",
    "Someone asked and no error was recognized: what the knowledge base is missing.",
    ["kind"],
    registry=REGISTRY,
)
SLACK_API_ERRORS = Counter(
    "errdesk_slack_api_errors_total",
    "Slack Web API calls that failed, by method and Slack's error code.",
    ["method", "error"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "errdesk_handling_seconds",
    "Time to handle a request, by kind; Slack gives up after 3 seconds.",
    ["kind"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0),
    registry=REGISTRY,
)


def observe_request(kind: str, outcome: str, seconds: float) -> None:
    """Count one handled request, time it, and log it: kind, outcome, latency, nothing else.

    The message text and any token stay out of the line on purpose: logs are kept and read
    more widely than the channels the messages came from.
    """
    REQUESTS.labels(kind=kind, outcome=outcome).inc()
    LATENCY.labels(kind=kind).observe(seconds)
    latency_ms = round(seconds * 1000, 1)
    log.info(
        "handled %s: %s in %.1f ms",
        kind,
        outcome,
        latency_ms,
        extra={"kind": kind, "outcome": outcome, "latency_ms": latency_ms},
    )


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, and the content type to serve them with."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
