"""Settings from the environment: defaults, and one clear error a bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

# `~name` for a user that has no home folder, so that it cannot be expanded.
NO_SUCH_USER = "errdesk-no-such-user"


def test_defaults_without_any_variable() -> None:
    settings = load_settings({})
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.redis_url is None
    assert not settings.socket_mode
    assert settings.missing_for_serve() == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)",
    ]


def test_an_app_token_means_socket_mode_and_no_signing_secret_is_needed() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert settings.socket_mode
    assert settings.missing_for_serve() == []


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://cache.example.net:6380/0?ssl_cert_reqs=none",
        "unix:///run/redis/redis.sock",
        "redis://[::1]:6379/0?socket_timeout=0.5",
    ],
)
def test_redis_urls_are_kept_as_given(url: str) -> None:
    assert load_settings({"REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize("url", ["localhost:6379", "http://cache:6379", "unix://"])
def test_a_bad_redis_url_names_the_variable(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^REDIS_URL must be a URL like redis://"):
        load_settings({"REDIS_URL": url})


def test_autoreply_channels_accept_ids_and_a_star() -> None:
    settings = load_settings({"ERRDESK_AUTOREPLY_CHANNELS": "C0123ABCD, G0456EFGH"})
    assert settings.autoreply_in("C0123ABCD")
    assert not settings.autoreply_in("C0999ZZZZ")
    assert load_settings({"ERRDESK_AUTOREPLY_CHANNELS": "*"}).autoreply_in("C0999ZZZZ")


def test_slack_api_url_gets_its_trailing_slash() -> None:
    settings = load_settings({"SLACK_API_URL": "http://127.0.0.1:8080/api"})
    assert settings.slack_api_url == "http://127.0.0.1:8080/api/"


def test_knowledge_dir_must_exist(tmp_path: Path) -> None:
    assert load_settings({"ERRDESK_KNOWLEDGE_DIR": str(tmp_path)}).knowledge_dir == tmp_path
    with pytest.raises(ConfigError, match=r"^ERRDESK_KNOWLEDGE_DIR must name an existing folder"):
        load_settings({"ERRDESK_KNOWLEDGE_DIR": str(tmp_path / "absent")})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ERRDESK_LOG_FORMAT", "xml"),
        ("WEB_CONCURRENCY", "0"),
        ("ERRDESK_THREADS", "many"),
        ("ERRDESK_STOP_GRACE", "-1"),
        ("ERRDESK_STOP_GRACE", "20s"),
        ("ERRDESK_STOP_GRACE", "601"),
        ("ERRDESK_POST_RATE", "0"),
        ("ERRDESK_POST_RATE", "nan"),
        ("ERRDESK_POST_RATE", "fast"),
    ],
)
def test_each_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable} must be"):
        load_settings({variable: value})


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SLACK_API_URL", "http://[bad", "a URL starting with http or https://"),
        ("SLACK_API_URL", "http://slack.test:api/", "its port (if any) a number up to 65535"),
        ("REDIS_URL", "redis://[::1", "a URL like redis://host:6379/0"),
        ("REDIS_URL", "redis://localhost:abc/0", "its port (if any) a number up to 65535"),
        ("REDIS_URL", "redis://localhost:6379/0?socket_timeout=abc", "'socket_timeout'"),
        ("REDIS_URL", "redis://localhost:6379/0?no_such_option=1", "'no_such_option'"),
        ("ERRDESK_KNOWLEDGE_DIR", f"~{NO_SUCH_USER}/kb", "an existing folder"),
        ("ERRDESK_DATA_DIR", f"~{NO_SUCH_USER}/data", "a folder errdesk can write to"),
        pytest.param(
            "ERRDESK_DATA_DIR", "/" + "a" * 300, "a folder errdesk can write to", id="too_long"
        ),
    ],
)
def test_a_value_urllib_paths_or_redis_py_refuse_names_its_variable_and_what_it_expects(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({variable: value})
    message = str(raised.value)
    assert message.startswith(f"{variable} must "), message
    assert expected in message, message


def test_a_redis_url_refused_for_its_options_does_not_repeat_its_password() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"REDIS_URL": "redis://:hunter22@cache:6379/0?socket_timeout=soon"})
    assert "hunter22" not in str(raised.value)


def test_the_stop_grace_and_the_post_rate_have_defaults_and_take_values() -> None:
    assert (load_settings({}).stop_grace, load_settings({}).post_rate) == (20, 1.0)
    settings = load_settings({"ERRDESK_STOP_GRACE": "0", "ERRDESK_POST_RATE": "2.5"})
    assert (settings.stop_grace, settings.post_rate) == (0, 2.5)


def test_the_data_dir_may_be_created_but_must_be_writable(tmp_path: Path) -> None:
    later = tmp_path / "not" / "yet"
    assert load_settings({"ERRDESK_DATA_DIR": str(later)}).data_dir == later
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(ConfigError, match=r"^ERRDESK_DATA_DIR must name a folder errdesk can"):
        load_settings({"ERRDESK_DATA_DIR": str(a_file / "below")})
