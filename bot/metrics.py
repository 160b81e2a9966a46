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
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

log = logging.getLogger("bot.requests")
slack_log = logging.getLogger("errdesk.slack")
state_log = logging.getLogger("errdesk.state")

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
OUTBOX_REPLIES = Counter(
    "errdesk_outbox_replies_total",
    "Replies through the outbound queue, by outcome: posted; found_posted (its response was "
    "lost, it was found in Slack and not posted again); refused (Slack said no, e.g. "
    "channel_not_found); gave_up (attempts ran out); unposted (still queued at a stop).",
    ["outcome"],
    registry=REGISTRY,
)
OUTBOX_RETRIES = Counter(
    "errdesk_outbox_retries_total",
    "Post attempts to be tried again, by reason: ratelimited, server_error, connection.",
    ["reason"],
    registry=REGISTRY,
)
STATE_STORE_ERRORS = Counter(
    "errdesk_state_store_errors_total",
    "State store calls that failed and were gone on without (the outbound queue's journal), "
    "by operation and error type.",
    ["operation", "error"],
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge(
    "errdesk_outbox_pending",
    "Replies queued in this process and not yet posted.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
OUTBOX_WAIT = Histogram(
    "errdesk_outbox_wait_seconds",
    "From a reply queued to it posted: Slack's pacing, Retry-After and retries included.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
SECRETS = Counter(
    "errdesk_secrets_total",
    "Messages that exposed a credential (masked, and the poster warned), by kind.",
    ["kind"],
    registry=REGISTRY,
)
FILES_SKIPPED = Counter(
    "errdesk_files_skipped_total",
    "Shared files left out or cut, by reason: not_text, too_large, cut, over_budget, "
    "untrusted_url.",
    ["reason"],
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


def slack_call_failed(method: str, error: str) -> None:
    """Log and count one Slack call that failed, by method and error code (never content)."""
    slack_log.warning("Slack %s failed: %s", method, error)
    SLACK_API_ERRORS.labels(method=method, error=error).inc()


def store_call_failed(operation: str, error: str) -> None:
    """Log and count one state store call that failed, by operation and error type (never the
    stored payload: it holds message text)."""
    state_log.warning("State store %s failed: %s", operation, error)
    STATE_STORE_ERRORS.labels(operation=operation, error=error).inc()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, and the content type to serve them with."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
