# hotline: `make demo` runs two paired nodes; `make test` runs every check and test.
# Both set everything up first, on a fresh Debian machine with Python 3.11.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup browser demo test lint unit integration bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's tools the tests drive: chromium for the console (Playwright never downloads one),
# faketime for a node with a wrong clock, promtool (package prometheus) to check /metrics and
# the example alerting rules, and PostgreSQL's server programs for the PostgreSQL store (the
# tests run initdb in a temporary directory themselves; Debian's own cluster is not used). Only
# promtool is wanted from prometheus: no recommended packages, and RUNLEVEL=1 keeps the
# services from being started.
browser:
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	if ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the console's browser tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi; \
	if ! command -v faketime >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then \
	  echo "installing Debian's faketime and prometheus (for promtool) for the tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
	    $$SUDO apt-get install -y -qq --no-install-recommends faketime prometheus >/dev/null; \
	fi; \
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian's postgresql for the PostgreSQL store's tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
	    $$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	fi

demo: setup
	$(BIN)/python -m hotline.demo

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: lint browser
	$(BIN)/pytest

unit: setup
	$(BIN)/pytest tests/unit

integration: setup browser
	$(BIN)/pytest tests/integration

bench: setup browser
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) demo-nodes test-artifacts .pytest_cache .mypy_cache .ruff_cache
