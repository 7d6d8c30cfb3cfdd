# minecs: the two commands a newcomer needs are `make up` and `make test`.
# Both do all of their own set-up (venv, Docker Engine, offline images) and are safe to re-run.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help up test bench bench-quick venv docker images prometheus bench-tools lint typecheck layers units pytest image-test unit integration clean

help:
	@echo "make up     run minecs's main job on this host (sets up everything it needs)"
	@echo "make test   lint, types, import layers, then every unit and integration test"
	@echo "make unit   only the fast tests that need no Docker"
	@echo "make bench  the benchmarks against docker, docker-compose and moto (bench-quick: fewer rounds)"

# ------------------------------------------------------------------ set-up
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	    { echo "minecs needs Python >= 3.11 (found $$($(PYTHON) --version 2>&1)); set PYTHON=python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)

docker:
	@bash scripts/ensure-docker

images: docker
	@bash scripts/ensure-images

# Debian's prometheus + promtool for the metrics tests, unpacked into .cache/ (no service started).
prometheus:
	@bash scripts/ensure-prometheus

# ------------------------------------------------------------------ the main job
# The demo host: controller + agent in one process, task ports on 127.0.0.1, the offline image used
# as it is (prefer-cached: there is no registry to ask), and what of manifests/examples does not exist
# yet created once it is up (--seed: never applied over the user's changes).
up: venv images
	$(BIN)/minecs up --publish-address 127.0.0.1 --pull-behavior prefer-cached --seed manifests/examples

# ------------------------------------------------------------------ benchmarks (measurement, not tests)
bench-tools: venv images
	@bash scripts/ensure-bench-tools

# Eight measures, each against its baseline in the same run; a summary table and bench/results/latest.json.
bench: bench-tools
	$(BIN)/python -m bench.run

bench-quick: bench-tools
	MINECS_BENCH_QUICK=1 $(BIN)/python -m bench.run

# ------------------------------------------------------------------ checks
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy minecs agent tests bench

layers: venv
	$(BIN)/lint-imports

units: venv docker
	bash scripts/verify-units

pytest: venv images prometheus
	MINECS_REQUIRE_DOCKER=1 $(BIN)/pytest $(PYTEST_ARGS)

# The container image: built offline and its controller started (minutes; CI sets MINECS_TEST_IMAGE=1).
image-test: venv docker
	bash scripts/image-test

test: lint typecheck layers units pytest
	@if [ "$${MINECS_TEST_IMAGE:-0}" = 1 ]; then $(MAKE) --no-print-directory image-test; \
	 else echo "image test skipped (MINECS_TEST_IMAGE=1 runs it; CI does)"; fi

unit: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: venv images prometheus
	MINECS_REQUIRE_DOCKER=1 $(BIN)/pytest tests/integration $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
