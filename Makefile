# Pipeline recovery: `make demo` sets up and runs the main job end to end; `make test` runs
# every test. `make help` lists the rest.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help setup demo test test-full test-fast test-matrix test-soak lint format bench lock clean

help:  ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## Create .venv and install the pinned dependencies

demo: setup  ## Generate sample data, validate the runbooks, recover a failed pipeline end to end
	$(BIN)/runbook demo

test: setup  ## What CI runs: the import contract and every test but `slow` and `matrix` ones
	[ ! -x .ci/install-system-packages ] || .ci/install-system-packages
	.ci/ensure-services
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -m "not slow and not matrix" || { status=$$?; [ $$status -ne 5 ] || echo "pytest collected no tests: that is a failure" >&2; exit $$status; }

test-full: setup  ## Every test but the rehearsal matrix, `slow` ones included (crashes, 50 gates, scale)
	[ ! -x .ci/install-system-packages ] || .ci/install-system-packages
	.ci/ensure-services
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -m "not matrix and not soak"

test-fast:  setup  ## Only the fast tests (no Prefect server, browser or PostgreSQL)
	$(BIN)/pytest -m "not slow and not prefect and not postgres and not browser"

test-matrix: setup  ## The whole rehearsal matrix on SQLite and PostgreSQL (long: see README)
	.ci/ensure-services
	$(BIN)/pytest -m matrix -s tests/rehearsal/test_matrix.py

test-soak: setup  ## The production profile for a quarter of an hour (RUNBOOK_SOAK_SECONDS), with figures
	.ci/ensure-services
	$(BIN)/pytest -m soak -s tests/deployments/test_soak.py

lint: setup  ## ruff check, format check and the import layers contract (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: setup  ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup  ## Run the benchmarks (figures and ratios to their baselines)
	for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lock:  ## Re-pin requirements.lock from the current .venv
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean:  ## Remove the virtualenv and generated data
	rm -rf $(VENV) data
