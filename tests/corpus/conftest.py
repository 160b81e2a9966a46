"""Print the recognition figures at the end of every run, whatever the outcome of the tests."""

from __future__ import annotations

import pytest

from tests.support import REPORTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, report in REPORTS.items():
        terminalreporter.write_sep("-", f"recognition scored on {name}")
        terminalreporter.write_line(report.render(max_misses=10))
