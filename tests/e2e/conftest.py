"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_slack import FakeSlack


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    """One fake Slack for a module's tests, so they can share one server started against it."""
    slack = FakeSlack()
    yield slack
    slack.close()
