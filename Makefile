# The two commands of the README: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench install

$(BIN)/errdesk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/errdesk

## run: errdesk serve with Slack tokens in the environment, else the local console
run: install
	@if [ -n "$$SLACK_BOT_TOKEN" ]; then $(BIN)/errdesk serve; else $(BIN)/errdesk console; fi

## test: lint, format check, Dockerfile lint, then the whole test suite
test: install lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if [ -f Dockerfile ]; then $(BIN)/hadolint Dockerfile; fi

bench: install
	$(BIN)/python -m benchmarks
