"""The engine: text -> findings -> answer. Pure Python; it knows nothing of Slack."""

from bot.engine.answer import USAGE_WORDS, VERDICT_LINES, Answer, Engine, Question
from bot.engine.knowledge import (
    Entry,
    KnowledgeBase,
    KnowledgeError,
    Problem,
    load_knowledge,
    read_entries,
)
from bot.engine.recognize import Finding
from bot.engine.vocabulary import Vocabulary, load_vocabulary

__all__ = [
    "USAGE_WORDS",
    "VERDICT_LINES",
    "Answer",
    "Engine",
    "Entry",
    "Finding",
    "KnowledgeBase",
    "KnowledgeError",
    "Problem",
    "Question",
    "Vocabulary",
    "load_knowledge",
    "load_vocabulary",
    "read_entries",
]
