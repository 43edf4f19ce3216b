"""The schema contract: added columns absorbed, declared renames applied, drops stop the run."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faults import inject
from tests.warehouse.sample import GOLDEN
from warehouse.contract import drift_report
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.pipelines import get_pipeline
from warehouse.pipelines.base import ColumnMapping
from warehouse.runner import run_pipeline

PROFIT = get_pipeline("aggregate_profit")
MAPPED = replace(
    PROFIT, column_mappings=(ColumnMapping("transactions", "product_code_v2", "product_code"),)
)


def golden(pipeline: str, partition: str) -> str:
    return (GOLDEN / f"{pipeline}__{partition}.csv").read_text()


def test_no_drift_on_the_sample(clean: Platform) -> None:
    report = drift_report(clean, PROFIT)
    assert report.changes == () and report.summary() == "no drift"


def test_an_added_column_is_recorded_and_the_run_proceeds(clean: Platform) -> None:
    inject(clean, "schema_drift", "aggregate_profit", "2026-03", "column_added")
    report = drift_report(clean, PROFIT)
    assert [(c.table, c.change, c.column) for c in report.absorbed] == [
        ("transactions", "added", "ingest_batch_id")
    ]
    assert not report.blocking
    result = run_pipeline(clean, "aggregate_profit", "2026-03")
    assert result.outputs.report_csv.read_text() == golden("aggregate_profit", "2026-03")


def test_an_undeclared_rename_stops_the_run_naming_the_candidate(clean: Platform) -> None:
    inject(clean, "schema_drift", "aggregate_profit", "2026-03", "column_renamed")
    with pytest.raises(PipelineFailure) as info:
        run_pipeline(clean, "aggregate_profit", "2026-03")
    assert info.value.kind == FailureKind.SCHEMA_DRIFT
    assert (
        "transactions.product_code dropped (renamed to product_code_v2? no mapping is declared)"
        in info.value.detail
    )


def test_a_declared_rename_is_applied_and_the_report_is_unchanged(clean: Platform) -> None:
    inject(clean, "schema_drift", "aggregate_profit", "2026-03", "column_renamed")
    report = drift_report(clean, MAPPED)
    assert [c.describe() for c in report.applied] == [
        "transactions: product_code_v2 read as product_code (declared mapping)"
    ]
    assert not report.blocking
    result = run_pipeline(clean, MAPPED, "2026-03")
    assert result.outputs.report_csv.read_text() == golden("aggregate_profit", "2026-03")
    # the view lived in the run's connections only: the source still has the new name
    assert "product_code_v2 added" not in drift_report(clean, MAPPED).summary()
    with pytest.raises(PipelineFailure):
        run_pipeline(clean, "aggregate_profit", "2026-03")


def test_a_dropped_column_stops_the_run_even_with_a_mapping(clean: Platform) -> None:
    inject(clean, "schema_drift", "aggregate_profit", "2026-03", "column_dropped")
    with pytest.raises(PipelineFailure, match=r"transactions\.product_code dropped"):
        run_pipeline(clean, MAPPED, "2026-03")
