"""Shared helpers for tests: the real, bundled knowledge base, and a free port to listen on."""

from __future__ import annotations

import json
import logging
import socket
from functools import cache
from pathlib import Path

import pytest

from bot.engine import Engine, KnowledgeBase, load_knowledge
from bot.engine.recognize import Cues
from bot.engine.recognize.cues import read_cues
from bot.engine.triage import triage
from bot.evaluation import Report

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
DEV_CORPUS = SHARED / "corpus" / "dev.jsonl"
# The five files of real labelled messages (shared/corpus/README.md).
SHARED_CORPORA = tuple(
    SHARED / "corpus" / f"{name}.jsonl"
    for name in ("dev", "threads", "titles", "threads2", "titles2")
)
REFERENCE_CODES = SHARED / "reference" / "reference_codes.json"
ERRNO_MAP = SHARED / "reference" / "errno_map.json"
LAYERS_CODES = SHARED / "reference" / "layers_codes.json"
# Scores computed during a run, printed in the terminal summary (tests/corpus/conftest.py).
REPORTS: dict[str, Report] = {}
# The cross-validated report of the decision (bot.training.Report), printed the same way.
CROSS_VALIDATED: dict[str, object] = {}


@cache
def bundled_kb() -> KnowledgeBase:
    return load_knowledge()


@cache
def engine() -> Engine:
    return Engine(bundled_kb())


def cues_of(text: str) -> Cues:
    """The cues the bundled engine reads in `text`, as every recognizer is given them."""
    vocabulary = engine().vocabulary
    return read_cues(text, triage(text, vocabulary), vocabulary)


def found_keys(text: str) -> list[tuple[str, str]]:
    """The entries recognition finds in a message, in the order they occur."""
    return [f.entry.key for f in engine().observe(text, asked=False)[2]]


def free_port() -> int:
    """A TCP port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def reference(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def logged(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    """The records one logger wrote: a thread another test left behind may log meanwhile."""
    return [record for record in caplog.records if record.name == logger]
