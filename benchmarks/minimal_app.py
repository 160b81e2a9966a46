"""The baseline of the end-to-end benchmark: a Bolt app that only acknowledges.

Served exactly as `errdesk serve` serves errdesk: gunicorn's gthread workers over Bolt's WSGI
adapter, with the options errdesk's server builds from the same environment (workers, threads,
keep-alive). So the difference between the two is what errdesk does per event, nothing else.

Run: `python -m benchmarks.minimal_app` with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL
and PORT set, as for `errdesk serve`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.web import WebClient

from bot.config import Settings, load_settings
from bot.server import SLACK_PATH, GunicornServer, gunicorn_options

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment


def create_minimal_app(settings: Settings) -> App:
    """Acknowledges every message event (Bolt acks events itself) and does nothing more."""
    app = App(
        client=WebClient(token=settings.bot_token, base_url=settings.slack_api_url),
        signing_secret=settings.signing_secret or "",
        token_verification_enabled=False,
    )

    @app.event("message")
    def ignore() -> None:
        return None

    return app


def make_wsgi_app(settings: Settings) -> WSGIApplication:
    """Bolt on the Slack path, and a /healthz the benchmark polls until the server is up."""
    slack = SlackRequestHandler(create_minimal_app(settings), path=SLACK_PATH)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
            return [b"ok\n"]
        return slack(environ, start_response)

    return application


def main() -> int:
    settings = load_settings()
    # Loopback only: the benchmark's load never leaves the machine.
    options = gunicorn_options(settings) | {
        "bind": f"127.0.0.1:{settings.port}",
        "proc_name": "minimal-bolt",
    }
    GunicornServer(lambda: make_wsgi_app(settings), options).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
