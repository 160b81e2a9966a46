"""Fixtures for the Slack side: the fake Slack, the listeners' world and Slack's payloads."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import pytest
from slack_bolt import BoltContext
from slack_sdk.web import WebClient

from bot.config import Settings, load_settings
from bot.engine import Engine
from bot.listeners.services import CONTEXT_KEY, Services
from bot.listeners.shortcuts import EXPLAIN_MESSAGE
from bot.outbox import Outbox
from bot.state import MemoryStore
from tests.fake_slack import BOT_TOKEN, BOT_USER_ID, SIGNING_SECRET, TEAM_ID, FakeSlack
from tests.support import DEV_CORPUS, ERRNO_MAP, REFERENCE_CODES, SHARED
from tests.support import engine as bundled_engine

HUMAN = "U0HUMAN01"
# The embedded store of apps built in this session: a folder of its own, not the machine's.
DATA_DIR = tempfile.mkdtemp(prefix="errdesk-tests-")
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)


# --- The shared files beside the checkout: said at the start and at the end of a run --------


def _missing_shared_files() -> list[Path]:
    return [path for path in (DEV_CORPUS, REFERENCE_CODES, ERRNO_MAP) if not path.is_file()]


def _missing_shared_line(missing: list[Path]) -> str:
    names = ", ".join(str(path.relative_to(SHARED)) for path in missing)
    return (
        f"shared files not found in {SHARED} ({names}): the tests on the shared corpus and "
        "reference skip. They live in a folder 'shared' beside the checkout."
    )


def pytest_report_header(config: pytest.Config) -> str:
    missing = _missing_shared_files()
    return _missing_shared_line(missing) if missing else f"shared files: {SHARED}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    missing = _missing_shared_files()
    if missing:
        terminalreporter.write_sep("=", "shared files missing", yellow=True, bold=True)
        terminalreporter.write_line(_missing_shared_line(missing))


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def engine() -> Engine:
    return bundled_engine()


def make_settings(fake: FakeSlack, **env: str) -> Settings:
    return load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
            "ERRDESK_AUTOREPLY_CHANNELS": "C0HELP001",
            "ERRDESK_DATA_DIR": DATA_DIR,
            **env,
        }
    )


class Responses(Sequence[dict[str, Any]]):
    """The bodies the bot sent to response_urls and the fake accepted, in order.

    The listeners send them through a WebhookClient to the fake, as they would to Slack;
    `clear()` forgets those sent so far, so a test can ask again.
    """

    def __init__(self, fake: FakeSlack) -> None:
        self._fake = fake
        self._skip = 0

    def _bodies(self) -> list[dict[str, Any]]:
        return [call.body for call in self._fake.responses(ok_only=True)][self._skip :]

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self._bodies()[index]

    def __len__(self) -> int:
        return len(self._bodies())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._bodies())

    def __eq__(self, other: object) -> bool:
        return self._bodies() == other

    __hash__ = None  # type: ignore[assignment]  # changes as the bot sends

    def clear(self) -> None:
        self._skip += len(self)


@dataclass
class Bot:
    """The listeners' world in a unit test: services, a real WebClient on the fake, a context."""

    fake: FakeSlack
    services: Services
    client: WebClient
    context: BoltContext
    acks: list[tuple[Any, ...]] = field(default_factory=list)
    _acked_at: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.responses = Responses(self.fake)

    def ack(self, *args: Any, **kwargs: Any) -> None:
        self._acked_at.append(time.monotonic())
        self.acks.append(args)

    @property
    def order(self) -> list[str]:
        """ "ack" and "respond" in the order they happened."""
        events = [(at, "ack") for at in self._acked_at]
        events += [(call.at, "respond") for call in self.fake.responses(ok_only=True)]
        return [name for _, name in sorted(events)]

    def act(self, listener: Callable[..., None], body: dict[str, Any]) -> None:
        """Call an action listener with the keyword arguments Bolt gives it for `body`."""
        listener(
            ack=self.ack,
            body=body,
            action=body["actions"][0],
            client=self.client,
            context=self.context,
        )


@pytest.fixture
def bot(fake_slack: FakeSlack, engine: Engine) -> Iterator[Bot]:
    settings = make_settings(fake_slack)
    store = MemoryStore()
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    outbox = Outbox(WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url), store)
    services = Services(settings=settings, engine=engine, store=store, outbox=outbox)
    context = BoltContext({CONTEXT_KEY: services, "bot_user_id": BOT_USER_ID})
    yield Bot(fake_slack, services, client, context)
    outbox.close(0)


# What a failing engine says; no reply may repeat it (the apology names no details).
FAILURE_DETAIL = "internal detail hunter22"


@pytest.fixture
def broken_engine(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's engine fails on every question, as a bug in it would."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(FAILURE_DETAIL)

    monkeypatch.setattr(bot.services.engine, "ask", broken)


# --- Slack's requests, built and signed the way Slack does ----------------------------------


def event_body(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """An Events API `event_callback` around `event`."""
    return {
        "token": "unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0000001",
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        "event": event,
    }


def new_ts() -> str:
    """A message timestamp no other test uses."""
    return f"{time.time():.6f}{uuid.uuid4().int % 1000:03d}"


def message_event(text: str, channel: str = "C0HELP001", **fields: Any) -> dict[str, Any]:
    ts = new_ts()
    return {
        "type": "message",
        "channel": channel,
        "user": HUMAN,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
        **fields,
    }


def mention_event(text: str, channel: str = "C0OTHER01", **fields: Any) -> dict[str, Any]:
    event = message_event(f"<@{BOT_USER_ID}> {text}", channel, **fields)
    event["type"] = "app_mention"
    event.pop("channel_type")
    return event


def command_form(text: str, response_url: str, channel: str = "C0OTHER01") -> dict[str, str]:
    return {
        "token": "unused",
        "team_id": TEAM_ID,
        "channel_id": channel,
        "channel_name": "helpdesk",
        "user_id": HUMAN,
        "user_name": "someone",
        "command": "/errcode",
        "text": text,
        "api_app_id": "A0000001",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def action_payload(
    action_id: str,
    value: str,
    response_url: str,
    *,
    channel: str = "C0OTHER01",
    message: dict[str, Any] | None = None,
    ephemeral: bool = False,
) -> dict[str, Any]:
    ts = (message or {}).get("ts") or new_ts()
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": HUMAN},
        "api_app_id": "A0000001",
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "channel": {"id": channel},
        "response_url": response_url,
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "errdesk_feedback",
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }
    if message is not None:
        payload["message"] = message
    return payload


def shortcut_payload(
    text: str, response_url: str, *, channel: str = "C0OTHER01", **message: Any
) -> dict[str, Any]:
    """The message shortcut ("Explain with errdesk") picked by HUMAN on a message saying `text`.

    The message is HUMAN's unless `message` says otherwise (user=None: a bot's, with no user).
    """
    picked = {"type": "message", "user": HUMAN, "text": text, "ts": new_ts(), **message}
    picked = {name: value for name, value in picked.items() if value is not None}
    return {
        "type": "message_action",
        "token": "unused",
        "action_ts": str(time.time()),
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": HUMAN, "name": "someone", "team_id": TEAM_ID},
        "channel": {"id": channel, "name": "helpdesk"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": EXPLAIN_MESSAGE,
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "message_ts": picked["ts"],
        "message": picked,
    }
