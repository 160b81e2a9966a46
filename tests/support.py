"""Shared helpers for tests that need the real, bundled knowledge base."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from bot.engine import Engine, KnowledgeBase, load_knowledge
from bot.evaluation import Report

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
DEV_CORPUS = SHARED / "corpus" / "dev.jsonl"
REFERENCE_CODES = SHARED / "reference" / "reference_codes.json"
ERRNO_MAP = SHARED / "reference" / "errno_map.json"
# Scores computed during a run, printed in the terminal summary (tests/corpus/conftest.py).
REPORTS: dict[str, Report] = {}


@cache
def bundled_kb() -> KnowledgeBase:
    return load_knowledge()


@cache
def engine() -> Engine:
    return Engine(bundled_kb())


def reference(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))
