"""Commands that need no Prefect and no database start without importing them.

Authors run `validate` on every save and on-call runs `oncall` in a hurry: these commands
must answer at once, so each runs here in its own interpreter and the test reads what that
process imported (behaviour, not timing; `bench/bench_cli_startup.py` measures the time).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import start

EVENT = {
    "event": "pipeline.failed",
    "resource": {"prefect.resource.id": "pipeline.aggregate_profit"},
    "payload": {"kind": "source_outage", "partition": "2026-03"},
}

FAST = {
    "help": ["--help"],
    "validate": ["validate"],
    "plan": ["plan", "aggregate-profit", "--event", "{event}"],
    "graph": ["graph", "aggregate-profit", "--format", "svg"],
    "schema": ["schema"],
    "steps": ["steps"],
    "one step": ["steps", "publish.investor_portal"],
    "oncall": ["oncall"],
    "oncall stats": ["oncall", "--stats", "--json"],
    "docs": ["docs", "--out", "{out}"],
}


@pytest.mark.parametrize("args", FAST.values(), ids=FAST.keys())
def test_a_fast_command_answers_without_prefect_or_a_database_library(
    args: list[str], tmp_path: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(EVENT), encoding="utf-8")
    args = [a.format(event=event, out=tmp_path / "pages") for a in args]

    started = start(args, tmp_path / "report.json")

    assert started.code == 0, started.output
    assert started.heavy == [], f"runbook {' '.join(args)} imported {started.heavy}"


def test_the_listing_imports_no_command_module(tmp_path: Path) -> None:
    started = start(["--help"], tmp_path / "report.json")
    assert "incidents" in started.output and "validate" in started.output
    assert started.loaded == {"runbook_cli.main", "runbook_cli.lazy_group"}


def test_a_command_that_needs_prefect_is_seen_importing_it(tmp_path: Path) -> None:
    """The check above would notice: `incidents` reads the ledger through the run services."""
    started = start(["incidents", "--help"], tmp_path / "report.json")
    assert started.code == 0, started.output
    assert {"prefect", "sqlalchemy"} <= set(started.heavy)
