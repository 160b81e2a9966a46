"""Print the recognition figures at the end of every run, whatever the outcome of the tests."""

from __future__ import annotations

import pytest

from tests.support import CROSS_VALIDATED, REPORTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for name, cross_validated in CROSS_VALIDATED.items():
        terminalreporter.write_sep("-", f"the decision cross-validated on {name}")
        terminalreporter.write_line(str(cross_validated))
    for name, report in REPORTS.items():
        terminalreporter.write_sep("-", f"recognition scored on {name}")
        terminalreporter.write_line(report.render(max_misses=10))
