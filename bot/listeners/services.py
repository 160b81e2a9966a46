"""What every listener needs: the engine, the store, the outbound queue, the settings, and
request timing.

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
from bot.outbox import Outbox
from bot.state import StateStore

log = logging.getLogger("errdesk.listeners")
CONTEXT_KEY = "errdesk"


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    store: StateStore
    outbox: Outbox


def services_of(context: Mapping[str, Any]) -> Services:
    services = context.get(CONTEXT_KEY)
    if not isinstance(services, Services):
        raise RuntimeError("errdesk services missing from the Bolt context; was register() run?")
    return services


def observed(
    kind: str, handle: Callable[[], str], *, apologize: Callable[[], object] | None = None
) -> str:
    """Run one request's work, then record its kind, outcome and latency (one log line).

    An exception is recorded as the outcome "error" and logged without the message text;
    it is not re-raised, so one bad request never takes the worker down. Then `apologize`,
    when given, tells whoever asked that something went wrong (best effort, without the
    exception's text), so a question never meets silence. A handler that returns "error"
    itself has already tried to reply and been refused by Slack; it is not asked again.
    """
    started = time.perf_counter()
    crashed = False
    try:
        outcome = handle()
    except Exception as error:
        log.error(
            "%s handling failed: %s",
            kind,
            type(error).__name__,
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        outcome, crashed = "error", True
    metrics.observe_request(kind, outcome, time.perf_counter() - started)
    if crashed and apologize is not None:
        try:
            apologize()
        except Exception as error:
            log.warning("%s: could not say that it failed: %s", kind, type(error).__name__)
    return outcome


def count_reply(answer: Answer) -> None:
    if answer.decisive is not None:
        metrics.REPLIES.labels(
            verdict=answer.decisive.verdict, protocol=answer.decisive.protocol
        ).inc()


def count_unrecognized(kind: str) -> None:
    metrics.UNRECOGNIZED.labels(kind=kind).inc()
