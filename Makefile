# Pipeline recovery: `make demo` sets up and runs the main job end to end; `make test` runs
# every test. `make help` lists the rest.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help setup demo test test-full test-fast test-matrix test-soak lint check format bench lock clean

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

# `make test` in two stages: what fails in seconds first (linters, types, the tests that need no
# service), then the tests that start Prefect servers or use PostgreSQL, on parallel workers
# (each has its own server, databases, ports and temp dirs; see tests/conftest.py).
FAST := not slow and not matrix and not prefect and not postgres and not browser
SERVICES := not slow and not matrix and (prefect or postgres or browser)
WORKERS ?= 3
PYTEST = $(BIN)/pytest -p no:cacheprovider
# pytest's exit code 5 (nothing collected) fails the stage: a suite that ran nothing has not passed
NOT_EMPTY = || { status=$$?; [ $$status -ne 5 ] || echo "pytest collected no tests: that is a failure" >&2; exit $$status; }

test: setup  ## What CI runs: linters and types, the fast tests, then the service-bound ones in parallel
	[ ! -x .ci/install-system-packages ] || .ci/install-system-packages
	$(MAKE) --no-print-directory check
	$(PYTEST) -q -m "$(FAST)" -n 2 $(NOT_EMPTY)
	.ci/ensure-services
	$(PYTEST) -q -m "$(SERVICES)" -n $(WORKERS) --dist loadscope --durations=15 $(NOT_EMPTY)

test-full: setup  ## Every test but the rehearsal matrix, `slow` ones included (crashes, 50 gates, scale)
	[ ! -x .ci/install-system-packages ] || .ci/install-system-packages
	$(MAKE) --no-print-directory check
	.ci/ensure-services
	$(PYTEST) -m "not matrix and not soak" $(NOT_EMPTY)

test-fast: setup  ## Only the fast tests (no Prefect server, browser or PostgreSQL: checked)
	$(PYTEST) -m "$(FAST)" $(NOT_EMPTY)

test-matrix: setup  ## The whole rehearsal matrix on SQLite and PostgreSQL (long: see README)
	.ci/ensure-services
	$(BIN)/pytest -m matrix -s tests/rehearsal/test_matrix.py

test-soak: setup  ## The production profile for a quarter of an hour (RUNBOOK_SOAK_SECONDS), with figures
	.ci/ensure-services
	$(BIN)/pytest -m soak -s tests/deployments/test_soak.py

lint: setup check  ## ruff check, format check, the import contracts and mypy

check: setup  ## The first stage of `make test`: ruff check and format, import contracts, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

format: setup  ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup  ## Run the benchmarks (figures and ratios to their baselines)
	for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lock:  ## Re-pin requirements.lock from the current .venv
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean:  ## Remove the virtualenv and generated data
	rm -rf $(VENV) data
