"""Every test can fail: each test function checks something.

A test checks when its body holds an `assert`, expects an exception or a failure
(`pytest.raises`, `pytest.warns`, `pytest.fail`, `raise AssertionError`), or calls a helper
defined in tests/ that checks in the same sense (counted through any depth of helpers). A
helper is known by its name: a plain call `name(...)` by a module-level function of tests/,
a call `thing.name(...)` by a method of a class in tests/. A name counts only when every
definition of it in tests/ checks, so a helper that asserts cannot lend its name to one that
does not. Calls to anything outside tests/ never count: the test must say what it expects.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
EXPECTING = frozenset({"raises", "warns", "fail", "deprecated_call"})

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Definitions:
    """The functions of tests/: module-level ones and methods, each name with all its bodies."""

    functions: dict[str, list[Function]] = field(default_factory=dict)
    methods: dict[str, list[Function]] = field(default_factory=dict)

    def add(self, tree: ast.Module) -> None:
        for node in tree.body:
            if isinstance(node, Function):
                self.functions.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, Function):
                        self.methods.setdefault(item.name, []).append(item)


def _own_nodes(function: Function) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of functions or classes defined inside it."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, Function | ast.ClassDef):
            continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def _checks_by_itself(function: Function) -> bool:
    for node in _own_nodes(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(raised, ast.Name) and raised.id == "AssertionError":
                return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "pytest"
            and node.func.attr in EXPECTING
        ):
            return True
    return False


def _calls(function: Function) -> Iterator[tuple[str, str]]:
    """("function", name) for `name(...)`, ("method", name) for `thing.name(...)`."""
    for node in _own_nodes(function):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                yield ("function", node.func.id)
            elif isinstance(node.func, ast.Attribute):
                yield ("method", node.func.attr)


class Checker:
    """Decides which functions of tests/ check something, helpers counted."""

    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        everything = [*_flatten(definitions.functions), *_flatten(definitions.methods)]
        self._checking: set[int] = {id(f) for f in everything if _checks_by_itself(f)}
        changed = True
        while changed:  # a helper that calls a checking helper checks too
            changed = False
            for function in everything:
                if id(function) not in self._checking and self._calls_a_check(function):
                    self._checking.add(id(function))
                    changed = True

    def checks(self, function: Function) -> bool:
        return id(function) in self._checking or self._calls_a_check(function)

    def _calls_a_check(self, function: Function) -> bool:
        for kind, name in _calls(function):
            table = self.definitions.functions if kind == "function" else self.definitions.methods
            bodies = table.get(name, [])
            if bodies and all(id(body) in self._checking for body in bodies):
                return True
        return False


def _flatten(table: dict[str, list[Function]]) -> Iterable[Function]:
    return (function for bodies in table.values() for function in bodies)


def collected_tests(tree: ast.Module) -> Iterator[tuple[str, Function]]:
    """The test functions pytest collects from one module: `test_*`, also in `Test*` classes."""
    for node in tree.body:
        if isinstance(node, Function) and node.name.startswith("test"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, Function) and item.name.startswith("test"):
                    yield f"{node.name}::{item.name}", item


def silent_tests(sources: dict[str, str]) -> list[str]:
    """The test ids, among `sources` (a file name -> its text), that check nothing."""
    trees = {name: ast.parse(text, filename=name) for name, text in sources.items()}
    definitions = Definitions()
    for tree in trees.values():
        definitions.add(tree)
    checker = Checker(definitions)
    return [
        f"{name}::{test_id}"
        for name, tree in trees.items()
        if Path(name).name.startswith("test_")
        for test_id, function in collected_tests(tree)
        if not checker.checks(function)
    ]


def test_every_test_in_tests_checks_something() -> None:
    sources = {
        str(path.relative_to(TESTS.parent)): path.read_text(encoding="utf-8")
        for path in sorted(TESTS.rglob("*.py"))
    }
    silent = silent_tests(sources)
    assert silent == [], (
        "these tests can never fail: give each an assert (or pytest.raises, or a helper of "
        "tests/ that asserts):\n  " + "\n  ".join(silent)
    )


HELPERS = """
import pytest

def expect_425(answer):
    assert answer.code == "425"

def relay(answer):
    expect_425(answer)

def shout(answer):
    print(answer)

class Fake:
    def wait_for(self, predicate):
        raise AssertionError("never")

    def close(self):
        pass
"""


CHECKS = [
    "assert explain('425')",
    "with pytest.raises(ValueError):\n        int('x')",
    "pytest.fail('not yet')",
    "expect_425(explain('425'))",
    "relay(explain('425'))",
    "Fake().wait_for(lambda: True)",
]
CHECKS_NOTHING = [
    "explain('425').to_dict()",
    "shout(explain('425'))",
    "Fake().close()",
    "len([1])",
    "def inner():\n        assert True",
]


@pytest.mark.parametrize(
    ("body", "silent"),
    [(body, []) for body in CHECKS]
    + [(body, ["tests/test_x.py::test_it"]) for body in CHECKS_NOTHING],
)
def test_a_test_is_named_exactly_when_it_checks_nothing(body: str, silent: list[str]) -> None:
    source = HELPERS + f"\ndef test_it():\n    {body}\n"
    assert silent_tests({"tests/test_x.py": source}) == silent, body


def test_a_helper_name_defined_twice_counts_only_if_both_check() -> None:
    source = (
        HELPERS
        + "\nclass Other:\n    def wait_for(self, predicate):\n        return predicate()\n"
        + "\ndef test_it():\n    Other().wait_for(lambda: True)\n"
    )
    assert silent_tests({"tests/test_x.py": source}) == ["tests/test_x.py::test_it"]


def test_methods_of_test_classes_are_checked_too() -> None:
    source = "class TestThing:\n    def test_it(self):\n        print(1)\n"
    assert silent_tests({"tests/test_x.py": source}) == ["tests/test_x.py::TestThing::test_it"]
