"""What every listener needs: the engine, the shared state, the settings, and request timing.

Listeners reach these through Bolt's `context` (set by a middleware in `register`), so each
callback stays a plain function of Bolt's keyword arguments and tests can call it directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import metrics
from bot.config import Settings
from bot.engine import Answer, Engine
from bot.state import StateStore

log = logging.getLogger("errdesk.listeners")
CONTEXT_KEY = "errdesk"


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    store: StateStore


def services_of(context: Mapping[str, Any]) -> Services:
    services = context.get(CONTEXT_KEY)
    if not isinstance(services, Services):
        raise RuntimeError("errdesk services missing from the Bolt context; was register() run?")
    return services


def observed(kind: str, handle: Callable[[], str]) -> str:
    """Run one request's work, then record its kind, outcome and latency (one log line).

    An exception is recorded as the outcome "error" and logged without the message text;
    it is not re-raised, so one bad request never takes the worker down.
    """
    started = time.perf_counter()
    try:
        outcome = handle()
    except Exception as error:
        log.error(
            "%s handling failed: %s",
            kind,
            type(error).__name__,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        outcome = "error"
    metrics.observe_request(kind, outcome, time.perf_counter() - started)
    return outcome


def count_reply(answer: Answer) -> None:
    if answer.decisive is not None:
        metrics.REPLIES.labels(
            verdict=answer.decisive.verdict, protocol=answer.decisive.protocol
        ).inc()


def count_unrecognized(kind: str) -> None:
    metrics.UNRECOGNIZED.labels(kind=kind).inc()
