"""create_app: no network call at construction, every call to SLACK_API_URL, retries on."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.app import create_app, create_client
from bot.engine import Engine
from bot.state import MemoryStore
from tests.conftest import make_settings
from tests.fake_slack import BOT_TOKEN, FakeSlack


def test_building_the_app_calls_nothing(fake_slack: FakeSlack, engine: Engine) -> None:
    app = create_app(make_settings(fake_slack), engine=engine, store=MemoryStore())
    assert app.client.base_url == fake_slack.api_url
    assert app.client.token == BOT_TOKEN
    fake_slack.settle(0.2)
    assert fake_slack.calls == []


def test_the_client_retries_rate_limits_server_errors_and_dropped_connections(
    fake_slack: FakeSlack,
) -> None:
    client = create_client(make_settings(fake_slack))
    kinds = {type(handler) for handler in client.retry_handlers}
    assert kinds == {
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
        ConnectionErrorRetryHandler,
    }


def test_an_injected_client_is_used_as_is(fake_slack: FakeSlack, engine: Engine) -> None:
    client = create_client(make_settings(fake_slack))
    app = create_app(make_settings(fake_slack), client, engine=engine, store=MemoryStore())
    assert app.client is client
