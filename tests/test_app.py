"""create_app: no network call at construction, calls to SLACK_API_URL, retries on; Identity."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.app import Identity, create_app, create_client
from bot.engine import Engine
from bot.state import MemoryStore
from tests.conftest import make_settings
from tests.fake_slack import BOT_TOKEN, BOT_USER_ID, FakeSlack


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


def test_the_identity_is_fetched_in_the_background_and_kept(fake_slack: FakeSlack) -> None:
    identity = Identity(create_client(make_settings(fake_slack)), BOT_TOKEN)
    assert identity.status() == (False, "Slack identity unknown: auth.test not answered yet")
    identity.start()
    identity.start()
    fake_slack.wait_for(lambda: identity.status()[0])
    result = identity.authorize(None, "T0000001", "U0HUMAN01")
    assert (result.bot_user_id, result.bot_token, result.user_id) == (
        BOT_USER_ID,
        BOT_TOKEN,
        "U0HUMAN01",
    )
    assert identity.status() == (True, f"bot {BOT_USER_ID}")
    assert len(fake_slack.calls_to("auth.test")) == 1


def test_until_slack_answers_requests_are_authorized_without_the_bot_user(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.fail("auth.test", error="invalid_auth", times=1_000)
    identity = Identity(create_client(make_settings(fake_slack)), BOT_TOKEN)
    try:
        result = identity.authorize(None, "T0000001", "U0HUMAN01")
        assert (result.bot_user_id, result.bot_token) == (None, BOT_TOKEN)
        fake_slack.wait_for(lambda: "failed 1 time(s)" in identity.status()[1])
        assert identity.status()[0] is False
    finally:
        identity.stopped.set()
