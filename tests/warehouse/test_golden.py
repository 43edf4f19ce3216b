"""Clean data gives each pipeline its golden report, identical on every backend."""

from __future__ import annotations

import os

import pytest

from tests.warehouse.fixtures import at
from tests.warehouse.sample import GOLDEN, PARTITIONS
from warehouse.db import Platform
from warehouse.outputs import report_csv
from warehouse.runner import run_pipeline


@pytest.mark.parametrize("pipeline", list(PARTITIONS))
def test_clean_run_gives_golden_report(clean: Platform, pipeline: str) -> None:
    partition = PARTITIONS[pipeline]
    result = run_pipeline(clean, pipeline, partition)
    assert all(c.passed for c in result.checks), [c for c in result.checks if not c.passed]
    golden = GOLDEN / f"{pipeline}__{partition}.csv"
    text = result.outputs.report_csv.read_text()
    if os.environ.get("RUNBOOK_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    assert report_csv(clean, *at(clean, pipeline, partition)) == text
    assert result.outputs.dashboard_feed.exists()


@pytest.mark.parametrize("pipeline", list(PARTITIONS))
def test_rerun_is_idempotent(clean: Platform, pipeline: str) -> None:
    first = run_pipeline(clean, pipeline, PARTITIONS[pipeline])
    second = run_pipeline(clean, pipeline, PARTITIONS[pipeline])
    assert first.transform.rows == second.transform.rows
    assert first.outputs.report_csv.read_text() == second.outputs.report_csv.read_text()
