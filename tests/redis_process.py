"""A throwaway redis-server for tests: started on a free port, stopped (or killed) by the test.

Tests that only need some Redis use ERRDESK_TEST_REDIS_URL when CI provides one; tests that
must stop Redis mid-run always start their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from tests.support import free_port

REDIS_SERVER = shutil.which("redis-server")
STARTUP_SECONDS = 10.0


def wait_for_redis(url: str, timeout: float = STARTUP_SECONDS) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            client.close()


class RedisProcess:
    """One redis-server child process that can be killed and started again on the same port."""

    def __init__(self) -> None:
        if REDIS_SERVER is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._folder = tempfile.mkdtemp(prefix="errdesk-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self._process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._folder,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_redis(self.url)

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=STARTUP_SECONDS)
        self._process = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self._folder, ignore_errors=True)


@contextmanager
def own_redis() -> Iterator[RedisProcess]:
    """A redis-server of this test's own; skips the test when the binary is missing."""
    server = RedisProcess()
    try:
        server.start()
        yield server
    finally:
        server.close()


@contextmanager
def any_redis() -> Iterator[str]:
    """The URL of CI's Redis (ERRDESK_TEST_REDIS_URL), else of one started for the test."""
    url = os.environ.get("ERRDESK_TEST_REDIS_URL")
    if url:
        wait_for_redis(url)
        yield url
        return
    with own_redis() as server:
        yield server.url
