"""The Slack app: a Bolt App with errdesk's listeners, built from Settings and nothing else.

Building it makes no network call, so it can be created before Slack, or the fake Slack of the
tests, is reachable. Who the bot is (auth.test) is `Identity`'s business: fetched in the
background and kept, so that no acknowledgement ever waits on the Web API. Every Web API call
goes to SLACK_API_URL; rate limits, server errors and dropped connections are retried by the
client.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web import SlackResponse, WebClient

from bot.config import Settings
from bot.engine import Engine, load_engine
from bot.listeners import register
from bot.listeners.services import Services
from bot.listeners.slack_calls import TIMEOUT, call, retry_handlers
from bot.outbox import Outbox, create_outbox
from bot.state import StateStore, create_store

log = logging.getLogger("errdesk.app")

# auth.test again after 1, 2, 4 ... seconds while it fails, then every minute.
IDENTITY_RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)


class _QuietTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when given a client or an authorize hook;
    ours carry that token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("`token`" in message and ("will be unused" in message or "ignored" in message))


BOLT_LOGGER = logging.getLogger("errdesk.bolt")
# Bolt runs every listener in one thread pool and acknowledges a command, a click or a shortcut
# only once its listener has started there (each HTTP thread waits up to 3 s for that ack). A
# listener waiting on Slack holds its thread for seconds (a file download, Share waiting for
# its post), so the pool must outnumber the requests in flight several times over: Bolt's own
# default of 5 let five Share clicks leave a /errcode unacknowledged.
LISTENER_THREADS_PER_REQUEST_THREAD = 4
MIN_LISTENER_THREADS = 32
BOLT_LOGGER.addFilter(_QuietTokenNotice())


def create_client(settings: Settings) -> WebClient:
    """The bot's WebClient on SLACK_API_URL, retrying 429 (after Retry-After), 5xx and resets."""
    return WebClient(
        token=settings.bot_token,
        base_url=settings.slack_api_url,
        timeout=TIMEOUT,
        retry_handlers=retry_handlers(),
    )


class Identity:
    """Who the bot is (auth.test: its user id, bot id, team), fetched once and kept.

    Bolt's own way calls auth.test inside the first request, so a slow or failing Slack at
    start delays or fails the first acknowledgements past Slack's 3 seconds. Here `start`
    fetches it on a thread of its own, again and again with a growing pause while Slack
    fails, and `authorize` (Bolt's hook) only reads what is known. Until it is known, requests
    are acknowledged and answered all the same, without the bot's user id: the bot's own
    messages still carry its bot_id and are never answered, and a mention in an auto-reply
    channel is answered once, the two listeners sharing one mark. `status` says which, for
    /readyz.
    """

    def __init__(self, client: WebClient, token: str | None) -> None:
        self._client = client
        self._token = token
        self._known: SlackResponse | None = None
        self._failures = 0
        self._lock = threading.Lock()
        self._started = False
        self.stopped = threading.Event()

    def start(self) -> None:
        """Fetch in the background until known; calling it again does nothing."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._fetch, name="errdesk-identity", daemon=True).start()

    def _fetch(self) -> None:
        while not self.stopped.is_set():
            answer = call("auth.test", self._client.auth_test)
            if answer is not None:
                self._known = answer
                log.info(
                    "Slack identity: bot user %s in team %s",
                    answer.get("user_id"),
                    answer.get("team_id"),
                )
                return
            self._failures += 1
            pause = IDENTITY_RETRY_SECONDS[min(self._failures, len(IDENTITY_RETRY_SECONDS)) - 1]
            log.warning(
                "Slack identity unknown; acknowledging without it, auth.test again in %.0f s",
                pause,
            )
            self.stopped.wait(pause)

    @property
    def bot_user_id(self) -> str | None:
        return None if self._known is None else self._known.get("user_id")

    def status(self) -> tuple[bool, str]:
        """Whether the identity is known, and what to say about it."""
        if self._known is not None:
            return True, f"bot {self.bot_user_id}"
        if self._failures == 0:
            return False, "Slack identity unknown: auth.test not answered yet"
        return False, f"Slack identity unknown: auth.test failed {self._failures} time(s)"

    def authorize(
        self, enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        """Bolt's authorize hook: what is known now, never a call to Slack."""
        self.start()
        known = self._known
        return AuthorizeResult(
            enterprise_id=enterprise_id or (known.get("enterprise_id") if known else None),
            team_id=team_id or (known.get("team_id") if known else None),
            bot_user_id=known.get("user_id") if known else None,
            bot_id=known.get("bot_id") if known else None,
            bot_token=self._token,
            user_id=user_id,
        )


def create_app(
    settings: Settings,
    client: WebClient | None = None,
    *,
    engine: Engine | None = None,
    store: StateStore | None = None,
    identity: Identity | None = None,
    outbox: Outbox | None = None,
) -> App:
    """A Bolt App for errdesk; pass `engine`, `store`, `identity` and `outbox` to share them.

    Without an `identity`, one is made that starts fetching on the first request.
    """
    store = store or create_store(settings)
    services = Services(
        settings=settings,
        engine=engine
        or load_engine(settings.knowledge_dir, settings.model_path, BOLT_LOGGER.error),
        store=store,
        outbox=outbox or create_outbox(settings, store),
    )
    client = client or create_client(settings)
    known = identity or Identity(client, settings.bot_token)

    def authorize(
        enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        # A plain function: Bolt passes its arguments by the names it finds in the signature.
        return known.authorize(enterprise_id, team_id, user_id)

    listeners = max(
        MIN_LISTENER_THREADS, LISTENER_THREADS_PER_REQUEST_THREAD * settings.web_threads
    )
    app = App(
        client=client,
        signing_secret=settings.signing_secret or "",
        authorize=authorize,
        logger=BOLT_LOGGER,
        listener_executor=ThreadPoolExecutor(listeners, thread_name_prefix="errdesk-listener"),
    )
    register(app, services)
    return app
