# The two commands a newcomer needs: `make demo` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo local test test-fast reliability-report setup lint bench docs

## Set up a virtual environment and run the demo on embedded defaults.
demo: setup
	$(BIN)/recovery-worker demo

## Run the real service on embedded defaults until Ctrl-C: drop .eml files into its inbox.
local: setup
	$(BIN)/recovery-worker run --local

## Set up everything the tests need (Debian packages included) and run lint, types and tests.
test: setup
	bash .ci/install-debian-packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

## Lint, types and the tests that need no server (no Dovecot, no Jira sandbox), in under 2 minutes.
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -m "not integration"

## Run the whole reliability suite and rewrite docs/reliability.md from its figures. Other runs
## write the page to pytest's temporary directory; CI=true turns a missing part into a failure.
reliability-report: setup
	bash .ci/install-debian-packages
	CI=true RECOVERY_WORKER_RELIABILITY_REPORT=$(CURDIR)/docs/reliability.md \
		$(BIN)/pytest tests/reliability

setup:
	bash .ci/setup-venv $(VENV)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Run every benchmark and rewrite docs/performance.md.
bench: setup
	$(BIN)/python -m bench

## Regenerate the documentation generated from code.
docs: setup
	$(BIN)/recovery-worker config example > config/recovery-worker.example.toml
	$(BIN)/recovery-worker config reference > docs/configuration.md
