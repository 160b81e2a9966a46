"""The project's own labelled messages: each one is a behaviour the engine must keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.evaluation import Case, load_cases
from tests.support import engine

CASES = load_cases(Path(__file__).with_name("cases.jsonl"))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case) -> None:
    answer = engine().explain(case.text)
    got = answer.decisive.key if answer.decisive else None
    if case.expect_reply:
        assert got == case.target, f"{case.id}: wanted {case.target}, got {got}"
        assert answer.reply, f"{case.id}: found {got} but would not reply ({answer.confidence})"
    else:
        assert not answer.reply, f"{case.id}: replied with {got} ({answer.confidence:.2f})"
