# The README's two commands are `make run` and `make test`; `make help` lists the others. Every
# target that needs the tools first sets up .venv from the lock files (lock/*.txt, with hashes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Hash-checked installs: every package, and every file of it, is the one the lock names.
PIP_LOCKED := $(BIN)/python -m pip install --quiet --require-hashes
# One universal resolution (any OS, Python 3.11 and newer) with the hashes of every file.
UV_COMPILE := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock'

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt typecheck lock bench

## help: list the targets
help:
	@sed -n 's/^## \([a-z-]*\): \(.*\)/\1\t\2/p' $(MAKEFILE_LIST) | expand -t 12

$(BIN)/errdesk: pyproject.toml lock/dev.txt lock/build.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_LOCKED) -r lock/dev.txt -r lock/build.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

## install: .venv with the locked tools and dependencies, and errdesk itself (editable)
install: $(BIN)/errdesk

## run: errdesk serve with Slack tokens in the environment, else the local console
run: install
	@if [ -n "$$SLACK_BOT_TOKEN" ]; then $(BIN)/errdesk serve; else $(BIN)/errdesk console; fi

## test: the pre-commit hooks on every file (see lint), then the whole test suite
test: lint
	$(BIN)/python -m pytest

## lint: ruff, ruff format, mypy on the typed modules, hadolint: .pre-commit-config.yaml
lint: install
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

## fmt: format the code and apply ruff's safe fixes
fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## typecheck: mypy --strict on all of bot/ and benchmarks/ (config in pyproject.toml)
typecheck: install
	$(BIN)/mypy

## lock: resolve pyproject.toml again into lock/*.txt (needs PyPI), then reinstall
lock: install
	$(UV_COMPILE) --upgrade pyproject.toml -o lock/runtime.txt
	$(UV_COMPILE) --upgrade lock/build.in -o lock/build.txt
	$(UV_COMPILE) --upgrade pyproject.toml lock/build.in --extra test \
		-c lock/runtime.txt -c lock/build.txt -o lock/dev.txt
	$(MAKE) install

## bench: the benchmarks, under two minutes (docs/benchmarks.md)
bench: install
	$(BIN)/python -m benchmarks
