"""The engine: read -> triage -> recognize -> decide -> answer. Pure Python; no Slack."""

from collections.abc import Callable
from pathlib import Path

from bot.engine.answer import USAGE_WORDS, VERDICT_LINES, Answer, Engine, Question
from bot.engine.decide import Conversation
from bot.engine.knowledge import (
    Entry,
    KnowledgeBase,
    KnowledgeError,
    Problem,
    load_knowledge,
    read_entries,
)
from bot.engine.model import ModelError, load_model
from bot.engine.recognize import Finding
from bot.engine.vocabulary import Vocabulary, load_vocabulary


def load_engine(
    knowledge_dir: Path | None = None,
    model_path: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> Engine:
    """The engine of a site: bundled knowledge and vocabulary plus the site's folder, and the
    site's model where one is named. A model that cannot be used is one clear warning, and the
    shipped model answers instead: a bad retraining must not take errdesk down."""
    model = None
    if model_path is not None:
        try:
            model = load_model(model_path)
        except ModelError as error:
            if warn is not None:
                warn(f"ERRDESK_MODEL: {error}; using the shipped model instead")
    return Engine(load_knowledge(knowledge_dir), load_vocabulary(knowledge_dir), model)


__all__ = [
    "USAGE_WORDS",
    "VERDICT_LINES",
    "Answer",
    "Conversation",
    "Engine",
    "Entry",
    "Finding",
    "KnowledgeBase",
    "KnowledgeError",
    "ModelError",
    "Problem",
    "Question",
    "Vocabulary",
    "load_engine",
    "load_knowledge",
    "load_model",
    "load_vocabulary",
    "read_entries",
]
