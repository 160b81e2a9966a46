"""Settings, read once from the environment and validated.

Every bad value is reported with the variable's name and what it expects, in one line,
so an operator can fix a deployment without reading a stack trace.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar, get_args
from urllib.parse import ParseResult, urlparse

import redis

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
LogFormat = Literal["text", "json"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LOG_FORMATS: tuple[LogFormat, ...] = get_args(LogFormat)
LOG_LEVELS: tuple[LogLevel, ...] = get_args(LogLevel)
Choice = TypeVar("Choice", bound=str)


def default_data_dir() -> Path:
    """A folder of this user's own in the temporary folder: every worker of the machine finds
    it, and it lasts until the machine (or container) is replaced."""
    user = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"errdesk-{user}"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = 3000
    autoreply_channels: frozenset[str] = frozenset()
    knowledge_dir: Path | None = None
    # A site's own decision model (`errdesk model train`); the shipped one when unset.
    model_path: Path | None = None
    redis_url: str | None = None
    log_format: LogFormat = "text"
    log_level: LogLevel = "INFO"
    web_concurrency: int = 1
    web_threads: int = 8
    data_dir: Path = field(default_factory=default_data_dir)
    stop_grace: int = 20
    post_rate: float = 1.0

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    def autoreply_in(self, channel: str) -> bool:
        return "*" in self.autoreply_channels or channel in self.autoreply_channels

    def missing_for_serve(self) -> list[str]:
        """The variables `errdesk serve` still needs, in the order an operator would set them."""
        missing = [] if self.bot_token else ["SLACK_BOT_TOKEN"]
        if not self.socket_mode and not self.signing_secret:
            missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
        return missing


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    return Settings(
        bot_token=_token(env, "SLACK_BOT_TOKEN", "xoxb-"),
        signing_secret=_optional(env, "SLACK_SIGNING_SECRET"),
        app_token=_token(env, "SLACK_APP_TOKEN", "xapp-"),
        slack_api_url=_url(env, "SLACK_API_URL", DEFAULT_SLACK_API_URL, ("http", "https")),
        port=_integer(env, "PORT", 3000, 1, 65535),
        autoreply_channels=_channels(env, "ERRDESK_AUTOREPLY_CHANNELS"),
        knowledge_dir=_folder(env, "ERRDESK_KNOWLEDGE_DIR"),
        model_path=Path(model) if (model := _optional(env, "ERRDESK_MODEL")) else None,
        redis_url=_redis_url(env, "REDIS_URL"),
        log_format=_choice(env, "ERRDESK_LOG_FORMAT", "text", LOG_FORMATS),
        log_level=_choice(env, "ERRDESK_LOG_LEVEL", "INFO", LOG_LEVELS),
        web_concurrency=_integer(env, "WEB_CONCURRENCY", 1, 1, 64),
        web_threads=_integer(env, "ERRDESK_THREADS", 8, 1, 256),
        data_dir=_data_dir(env, "ERRDESK_DATA_DIR"),
        stop_grace=_integer(env, "ERRDESK_STOP_GRACE", 20, 0, 600),
        post_rate=_number(env, "ERRDESK_POST_RATE", 1.0, 0.1, 1000.0),
    )


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _token(env: Mapping[str, str], name: str, prefix: str) -> str | None:
    value = _optional(env, name)
    if value is not None and not value.startswith(prefix):
        raise ConfigError(f"{name} must be a Slack token starting with '{prefix}'")
    return value


def _parsed_url(value: str) -> ParseResult | None:
    """`value` as a URL, or None when urllib cannot read it (an unclosed IPv6 bracket) or its
    port is not a number from 0 to 65535."""
    try:
        parsed = urlparse(value)
        parsed.port  # noqa: B018  # reading it is what checks it
    except ValueError:
        return None
    return parsed


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = _optional(env, name) or default
    parsed = _parsed_url(value)
    if parsed is None or parsed.scheme not in schemes or not parsed.netloc:
        raise ConfigError(
            f"{name} must be a URL starting with {' or '.join(schemes)}://, "
            "its port (if any) a number up to 65535"
        )
    return value if value.endswith("/") else value + "/"


def _redis_url(env: Mapping[str, str], name: str) -> str | None:
    """Kept exactly as given: redis-py reads options from the query string (ssl_cert_reqs=...).

    redis-py builds a connection from it here (without connecting), so that a port or an
    option it refuses is said now, not when every worker fails to boot.
    """
    value = _optional(env, name)
    if value is None:
        return None
    expected = (
        f"{name} must be a URL like redis://host:6379/0, rediss://host:6380/0 "
        "or unix:///path/to/redis.sock"
    )
    parsed = _parsed_url(value)
    located = parsed and (parsed.path if parsed.scheme == "unix" else parsed.netloc)
    if parsed is None or parsed.scheme not in ("redis", "rediss", "unix") or not located:
        raise ConfigError(f"{expected}, its port (if any) a number up to 65535")
    try:
        redis.ConnectionPool.from_url(value).make_connection()
    except (ValueError, TypeError, redis.RedisError) as error:
        # redis-py's reason names the option or the port, never the password.
        raise ConfigError(f"{expected}, with options redis-py takes ({error})") from None
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = _optional(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not '{value}'")
    return number


def _choice(
    env: Mapping[str, str], name: str, default: Choice, choices: tuple[Choice, ...]
) -> Choice:
    value = _optional(env, name)
    if value is None:
        return default
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name} must be one of {', '.join(choices)}, not '{value}'")


def _channels(env: Mapping[str, str], name: str) -> frozenset[str]:
    value = _optional(env, name)
    if value is None:
        return frozenset()
    channels = frozenset(part.strip() for part in value.split(",") if part.strip())
    for channel in channels:
        if channel != "*" and not (channel.isalnum() and channel[:1] in "CGD"):
            raise ConfigError(
                f"{name} must be channel IDs (like C0123ABCD) separated by commas, or '*'; "
                f"'{channel}' is not one"
            )
    return channels


def _folder(env: Mapping[str, str], name: str) -> Path | None:
    value = _optional(env, name)
    if value is None:
        return None
    path = _path_if(value, Path.is_dir)
    if path is None:
        raise ConfigError(f"{name} must name an existing folder of .toml files, not '{value}'")
    return path


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    value = _optional(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:  # also false for nan
        raise ConfigError(f"{name} must be a number from {low:g} to {high:g}, not '{value}'")
    return number


def _data_dir(env: Mapping[str, str], name: str) -> Path:
    """A folder errdesk can write to, or one it can create (the nearest existing parent is
    writable); checked here, created when the store opens."""
    value = _optional(env, name) or str(default_data_dir())
    path = _path_if(value, _writable_or_creatable)
    if path is None:
        raise ConfigError(f"{name} must name a folder errdesk can write to, not '{value}'")
    return path


def _writable_or_creatable(path: Path) -> bool:
    """Whether `path`, or the nearest of its parents that exists, is a writable folder."""
    existing = path
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def _path_if(value: str, check: Callable[[Path], bool]) -> Path | None:
    """`value` as a path (~ expanded) when `check` holds for it; None when it does not, or when
    the path cannot even be looked at (~user for a user with no home, a name too long)."""
    try:
        path = Path(value).expanduser()
        return path if check(path) else None
    except (RuntimeError, OSError):
        return None
