# The two commands a newcomer needs: `make demo` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test setup lint bench docs

## Set up a virtual environment and run the demo on embedded defaults.
demo: setup
	$(BIN)/recovery-worker demo

## Set up everything the tests need (Debian packages included) and run lint, types and tests.
test: setup
	bash .ci/install-debian-packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

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
