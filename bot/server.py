"""`errdesk serve`: the Slack app over HTTP (gunicorn) or Socket Mode, with health endpoints.

HTTP mode runs gunicorn, a production server, over Bolt's WSGI adapter. Worker model: `gthread`,
WEB_CONCURRENCY processes (default 1) of ERRDESK_THREADS threads (default 8). Threads, because
Bolt answers Slack first (the acknowledgement, well inside Slack's 3 seconds) and then does the
work (engine, Web API calls) on a thread of its own; the work is mostly waiting on Slack, which
threads do well, and a slow reply never holds up the next request's acknowledgement. Several
processes, or several replicas behind a load balancer, need REDIS_URL: what must be shared (events
already handled, threads already explained, votes) then lives in Redis, since Slack may deliver
an event's retry to another process. Every path but the three health paths goes to Bolt, which
serves events, slash commands and interactivity on POST /slack/events.

Socket Mode (SLACK_APP_TOKEN set) needs no public URL: Bolt's built-in Socket Mode client opens
the websocket that apps.connections.open names, on the same WebClient and SLACK_API_URL. A small
HTTP server still answers /healthz, /readyz and /metrics on PORT, so a container HEALTHCHECK
works the same in both modes. Run one Socket Mode instance: each connection receives its share
of the events, and a second instance adds nothing but a second place to look at.

SIGTERM and Ctrl-C stop either mode cleanly: no new work is taken, requests in flight are
finished, then the replies still queued are posted for at most ERRDESK_STOP_GRACE seconds; what
is left is logged and counted, and stays in the shared store for another process
(`bot.outbox`).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier

from bot import health, metrics, outbox
from bot.app import create_app
from bot.config import Settings
from bot.engine import Engine, load_knowledge
from bot.logging_setup import configure_logging
from bot.state import StateStore, create_store

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("errdesk.server")

SLACK_PATH = "/slack/events"
# Slack's payloads are a few kilobytes; a larger body is not from Slack.
MAX_BODY_BYTES = 2_000_000
# gunicorn kills a worker this long after ERRDESK_STOP_GRACE: time to finish its requests.
STOP_MARGIN_SECONDS = 5
# Requests refused for their signature are logged at most once in this many seconds.
REFUSED_LOG_SECONDS = 60


def serve(settings: Settings) -> int:
    """Run until SIGTERM or Ctrl-C; the exit status. Knowledge problems stop it before serving."""
    configure_logging(settings)
    engine = Engine(load_knowledge(settings.knowledge_dir))
    log.info("Knowledge loaded: %d entries", len(engine.kb))
    if settings.socket_mode:
        return serve_socket_mode(settings, engine)
    return serve_http(settings, engine)


# --- HTTP mode ----------------------------------------------------------------------------


def readiness(engine: Engine, store: StateStore) -> health.Readiness:
    """Ready when the knowledge is loaded and the shared state answers."""

    def ready() -> tuple[bool, str]:
        if len(engine.kb) == 0:
            return False, "no knowledge loaded"
        if not store.healthy():
            return False, f"state store ({store.backend}) unreachable"
        return True, f"ready: {len(engine.kb)} entries, state in {store.backend}"

    return ready


class RefusedRequests:
    """Counts requests refused for their signature, and says so at most once a minute.

    A wrong SLACK_SIGNING_SECRET refuses every request Slack sends, and a scanner may send
    thousands: one warning line per interval, with how many were refused, and never a body
    or a header (they are not Slack's, or Slack's own would be shown).
    """

    def __init__(
        self, interval: float = REFUSED_LOG_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._pending = 0
        self._next_line = float("-inf")

    def refused(self) -> None:
        metrics.REQUESTS.labels(kind="http", outcome="bad_signature").inc()
        with self._lock:
            self._pending += 1
            now = self._clock()
            if now < self._next_line:
                return
            count, self._pending = self._pending, 0
            self._next_line = now + self._interval
        log.warning(
            "Refused %d request(s) with a missing, wrong or expired Slack signature "
            "(at most one such line every %d s); if Slack's own requests are refused, "
            "check SLACK_SIGNING_SECRET",
            count,
            self._interval,
            extra={"refused": count},
        )


class SlackEvents(SlackRequestHandler):
    """Bolt's WSGI adapter, with the signature checked before the body is parsed.

    A request that is not signed by Slack (or signed more than five minutes ago) gets 401 and
    reaches nothing else (it is counted, and logged at most once a minute); a signed body Bolt
    cannot read gets 400, never a stack trace.
    """

    def __init__(self, app: App, signing_secret: str) -> None:
        super().__init__(app, path=SLACK_PATH)
        self.verifier = SignatureVerifier(signing_secret)
        self.refused = RefusedRequests()

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            body = request.get_body()
        except (ValueError, OSError):
            return _plain_response(400, "unreadable body")
        headers = request.get_headers()
        try:
            valid = self.verifier.is_valid_request(body, headers)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            valid = False
        if not valid:
            self.refused.refused()
            return _plain_response(401, "invalid request signature")
        try:
            bolt_request = BoltRequest(body=body, query=request.query_string, headers=headers)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            return _plain_response(400, "malformed payload")
        return self.app.dispatch(bolt_request)


def make_wsgi_app(
    settings: Settings,
    engine: Engine,
    store: StateStore | None = None,
) -> WSGIApplication:
    """Health paths first, then Bolt on POST /slack/events; one app per worker process."""
    store = store or create_store(settings)
    slack = SlackEvents(
        create_app(settings, engine=engine, store=store), settings.signing_secret or ""
    )
    ready = readiness(engine, store)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answered = health.handle(environ, start_response, ready=ready)
        if answered is not None:
            return answered
        length = str(environ.get("CONTENT_LENGTH") or "0")
        if not length.isdigit():
            return _plain(start_response, "400 Bad Request", "bad Content-Length")
        if int(length) > MAX_BODY_BYTES:
            return _plain(start_response, "413 Content Too Large", "request body too large")
        try:
            return slack(environ, start_response)
        except Exception as error:  # the last line of defence: no stack trace to the client
            log.error("Request failed: %s", type(error).__name__)
            return _plain(start_response, "500 Internal Server Error", "internal error")

    return application


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured in code: no command line, no config file, no environment parsing."""

    def __init__(self, factory: Callable[[], WSGIApplication], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(name, value)

    def load(self) -> WSGIApplication:
        return self.factory()


class GunicornLogs(glogging.Logger):  # type: ignore[misc]
    """gunicorn's own lines go through errdesk's handler: one format (JSON lines when asked for),
    the same token redaction, instead of a second handler printing plain text beside it."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bind": f"0.0.0.0:{settings.port}",
        "worker_class": "gthread",
        "workers": settings.web_concurrency,
        "threads": settings.web_threads,
        "timeout": 30,
        "graceful_timeout": settings.stop_grace + STOP_MARGIN_SECONDS,
        "worker_exit": lambda server, worker: outbox.close_all(settings.stop_grace),
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "logger_class": GunicornLogs,
        "loglevel": settings.log_level.lower(),
        "preload_app": False,
        "proc_name": "errdesk",
        # gunicorn 24+ opens a control socket under $HOME; a container user may have no home.
        "control_socket_disable": True,
    }
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        options["child_exit"] = _worker_exited
    return options


def serve_http(settings: Settings, engine: Engine) -> int:
    """gunicorn in the foreground; each worker builds its own app (client, threads, store)."""
    _reset_multiprocess_metrics()
    log.info(
        "HTTP mode on port %d: %d worker(s) x %d threads, state in %s",
        settings.port,
        settings.web_concurrency,
        settings.web_threads,
        "redis" if settings.redis_url else f"sqlite in {settings.data_dir}",
    )
    server = GunicornServer(lambda: make_wsgi_app(settings, engine), gunicorn_options(settings))
    try:
        server.run()
    except SystemExit as stop:  # gunicorn's arbiter ends with sys.exit
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return 0


def _worker_exited(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _reset_multiprocess_metrics() -> None:
    """Counts from an earlier run would be added to this one's; start from zero."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and Path(folder).is_dir():
        for stale in Path(folder).glob("*.db"):
            stale.unlink(missing_ok=True)


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = f"{text}\n".encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


def _plain_response(status: int, text: str) -> BoltResponse:
    return BoltResponse(status=status, body=text, headers={"content-type": "text/plain"})


# --- Socket Mode --------------------------------------------------------------------------


def serve_socket_mode(
    settings: Settings, engine: Engine, stop: threading.Event | None = None
) -> int:
    """Connect over Socket Mode and serve health on PORT until `stop` (SIGTERM, Ctrl-C) is set."""
    stop = stop or _stop_on_signals()
    store = create_store(settings)
    app = create_app(settings, engine=engine, store=store)
    handler = SocketModeHandler(app, app_token=settings.app_token)
    state_ready = readiness(engine, store)

    def ready() -> tuple[bool, str]:
        if not handler.client.is_connected():
            return False, "Socket Mode not connected"
        return state_ready()

    server, _ = health.start_health_server(settings.port, ready)
    try:
        handler.connect()
    except (SlackApiError, SlackClientError, OSError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else error
        log.error("Socket Mode could not connect: %s", reason)
        _stop_health_server(server)
        return 1
    log.info("Socket Mode connected; health endpoints on port %d", server.server_port)
    stop.wait()
    log.info("Stopping")
    handler.close()
    outbox.close_all(settings.stop_grace)
    _stop_health_server(server)
    return 0


def _stop_health_server(server: WSGIServer) -> None:
    """Stop serving, then close the listening socket (shutdown alone leaves it open)."""
    server.shutdown()
    server.server_close()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    return stop
