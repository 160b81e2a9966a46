"""`errdesk serve`: the Slack app over HTTP (gunicorn) or Socket Mode, with health endpoints.

HTTP mode runs gunicorn, a production server, over Bolt's WSGI adapter. Worker model:
WEB_CONCURRENCY processes (default 1), each reading every connection on one event loop
(`bot.front`: slow or idle clients cost no thread) and running complete requests on
ERRDESK_THREADS threads (default 8). Threads, because Bolt answers Slack first (the
acknowledgement, well inside Slack's 3 seconds) and then does the work (engine, Web API calls)
on a thread of its own; the work is mostly waiting on Slack, which threads do well, and a slow
reply never holds up the next request's acknowledgement. Who the bot is (auth.test) is fetched
in the background at start (`bot.app.Identity`): no acknowledgement waits on the Web API. Several
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
from slack_bolt.request.internals import parse_body
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier

from bot import health, outbox
from bot.app import Identity, create_app, create_client
from bot.config import Settings
from bot.engine import Engine, load_engine
from bot.front import MAX_CONNECTIONS, REFUSED, RefusedRequests
from bot.logging_setup import configure_logging
from bot.state import StateStore, create_store

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("errdesk.server")

SLACK_PATH = "/slack/events"
# Slack's timestamps are Unix seconds; a header with more digits is not from Slack.
MAX_TIMESTAMP_DIGITS = 12
# Slack's payloads nest a few levels (blocks in a message in an event); far deeper is not Slack.
MAX_PAYLOAD_DEPTH = 64
# gunicorn kills a worker this long after ERRDESK_STOP_GRACE: time to finish its requests.
STOP_MARGIN_SECONDS = 5


def serve(settings: Settings) -> int:
    """Run until SIGTERM or Ctrl-C; the exit status. Knowledge problems stop it before serving."""
    configure_logging(settings)
    engine = load_engine(settings.knowledge_dir, settings.model_path, log.error)
    log.info("Knowledge loaded: %d entries", len(engine.kb))
    if settings.socket_mode:
        return serve_socket_mode(settings, engine)
    return serve_http(settings, engine)


# --- HTTP mode ----------------------------------------------------------------------------


def readiness(engine: Engine, store: StateStore, identity: Identity) -> health.Readiness:
    """Ready when the knowledge is loaded, the shared state answers and Slack said who we are."""

    def ready() -> tuple[bool, str]:
        if len(engine.kb) == 0:
            return False, "no knowledge loaded"
        if not store.healthy():
            return False, f"state store ({store.backend}) unreachable"
        known, identity_status = identity.status()
        if not known:
            return False, identity_status
        return True, (
            f"ready: {len(engine.kb)} entries, state in {store.backend}, {identity_status}"
        )

    return ready


# Where Bolt and the listeners look into a payload, and what Slack always sends there: objects
# (looked into in turn), lists of objects, ids (a string, or an object with an id) and strings.
OBJECT_FIELDS = frozenset(
    {"event", "message", "previous_message", "item", "view", "container", "assistant_thread"}
)
OBJECT_LIST_FIELDS = frozenset({"authorizations", "actions", "response_urls"})
ID_FIELDS = frozenset({"team", "user", "channel", "enterprise"})
TEXT_FIELDS = frozenset(
    {"type", "subtype", "team_id", "user_id", "channel_id", "enterprise_id", "bot_id"}
    | {"ts", "thread_ts", "event_ts", "event_id", "response_url", "text", "command"}
)


def payload_problem(payload: Any) -> str | None:
    """What makes a signed payload one Slack never sends, or None.

    Bolt reads these fields without checking their types (an `event` that is a string, a
    `user` that is a number): such a payload is refused here with 400, before Bolt fails on
    it with a stack trace and a 500.
    """
    if not isinstance(payload, dict):
        return "not a JSON object"
    if _depth(payload) > MAX_PAYLOAD_DEPTH:
        return f"nested deeper than {MAX_PAYLOAD_DEPTH} levels"
    envelopes: list[tuple[str, dict[str, Any]]] = [("payload", payload)]
    while envelopes:
        where, envelope = envelopes.pop()
        for name, value in envelope.items():
            if value is None and name != "event":  # Slack sends "enterprise": null and such
                continue
            if name in OBJECT_FIELDS:
                if not isinstance(value, dict):
                    return f"{where}.{name} is not an object"
                envelopes.append((f"{where}.{name}", value))
            elif name in OBJECT_LIST_FIELDS:
                if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                    return f"{where}.{name} is not a list of objects"
                envelopes += [(f"{where}.{name}[]", item) for item in value]
            elif name in ID_FIELDS and not isinstance(value, str | dict):
                return f"{where}.{name} is not an id"
            elif name in TEXT_FIELDS and not isinstance(value, str):
                return f"{where}.{name} is not a string"
    return None


def _depth(payload: Any) -> int:
    """How deeply lists and objects nest in `payload`, counted without recursion."""
    deepest, pending = 0, [(payload, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_PAYLOAD_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node
        pending += [(child, depth + 1) for child in children if isinstance(child, dict | list)]
    return deepest


def _read_payload(body: str, content_type: str | None) -> Any:
    """The payload as Bolt will read it (JSON, a form, or JSON in a form's payload field)."""
    try:
        return parse_body(body, content_type)
    except (ValueError, RecursionError):  # JSON nested past the parser's limit included
        return None


class SlackEvents(SlackRequestHandler):
    """Bolt's WSGI adapter, with the signature checked before the body is parsed.

    A request that is not signed by Slack (or signed more than five minutes ago) gets 401 and
    reaches nothing else; a malformed timestamp, a body that is not text, or a signed payload
    Slack never sends gets 400. Each refusal is counted, and logged at most once a minute
    (`bot.front.RefusedRequests`), never with a stack trace.
    """

    def __init__(self, app: App, signing_secret: str, refused: RefusedRequests = REFUSED) -> None:
        super().__init__(app, path=SLACK_PATH)
        self.verifier = SignatureVerifier(signing_secret)
        self.refused = refused

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            body = request.get_body()
        except (ValueError, OSError):
            return self._refuse("malformed", 400, "unreadable body")
        headers = request.get_headers()
        timestamp = headers.get("x-slack-request-timestamp")
        if isinstance(timestamp, str) and not (
            timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS
        ):
            return self._refuse("malformed", 400, "malformed X-Slack-Request-Timestamp")
        try:
            # slack_sdk wants dict[str, str | Sequence[str]]; a dict[str, str] is one (invariance).
            valid = self.verifier.is_valid_request(body, headers)  # type: ignore[arg-type]  # above
        except (ValueError, TypeError):
            valid = False
        if not valid:
            return self._refuse("bad_signature", 401, "invalid request signature")
        content_type = str(headers.get("content-type") or "").split(";")[0] or None
        problem = payload_problem(_read_payload(body, content_type))
        if problem is not None:
            return self._refuse("malformed", 400, f"malformed payload: {problem}")
        try:
            bolt_request = BoltRequest(body=body, query=request.query_string, headers=headers)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            return self._refuse("malformed", 400, "malformed payload")
        return self.app.dispatch(bolt_request)

    def _refuse(self, reason: str, status: int, text: str) -> BoltResponse:
        self.refused.refused(reason)
        return BoltResponse(status=status, body=text, headers={"content-type": "text/plain"})


def make_wsgi_app(
    settings: Settings,
    engine: Engine,
    store: StateStore | None = None,
) -> WSGIApplication:
    """Health paths first, then Bolt on POST /slack/events; one app per worker process.

    Who the bot is starts being fetched here, in the background.
    """
    store = store or create_store(settings)
    client = create_client(settings)
    identity = Identity(client, settings.bot_token)
    identity.start()
    slack = SlackEvents(
        create_app(settings, client, engine=engine, store=store, identity=identity),
        settings.signing_secret or "",
    )
    ready = readiness(engine, store, identity)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        answered = health.handle(environ, start_response, ready=ready)
        if answered is not None:
            return answered
        return slack(environ, start_response)

    return application


class GunicornServer(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped: Any base
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


class GunicornLogs(glogging.Logger):  # type: ignore[misc]  # gunicorn is untyped: Any base
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
        "worker_class": "bot.front.FrontWorker",
        "workers": settings.web_concurrency,
        "threads": settings.web_threads,
        "worker_connections": MAX_CONNECTIONS,
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


# --- Socket Mode --------------------------------------------------------------------------


def serve_socket_mode(
    settings: Settings, engine: Engine, stop: threading.Event | None = None
) -> int:
    """Connect over Socket Mode and serve health on PORT until `stop` (SIGTERM, Ctrl-C) is set."""
    stop = stop or _stop_on_signals()
    store = create_store(settings)
    client = create_client(settings)
    identity = Identity(client, settings.bot_token)
    identity.start()
    app = create_app(settings, client, engine=engine, store=store, identity=identity)
    handler = SocketModeHandler(app, app_token=settings.app_token)
    state_ready = readiness(engine, store, identity)

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
    identity.stopped.set()
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
