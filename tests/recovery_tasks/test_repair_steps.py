"""The repairing step types on the sample warehouse: wait, contract, gaps, fills, clean, rerun."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest

from faults import clear_faults, inject
from faults.records import erase
from recovery_tasks.backfill import FillParams, activity_logs, event_backup
from recovery_tasks.data import find_missing
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.params import PartitionParams
from recovery_tasks.partitions import clean_half_written
from recovery_tasks.schema import contract
from recovery_tasks.services import RunServices
from recovery_tasks.sources import WaitForSourceParams, wait
from recovery_tasks.transforms import RerunParams, rerun
from tests.recovery_tasks.conftest import step_ctx
from warehouse.db import Platform
from warehouse.failures import PipelineFailure
from warehouse.pipelines import registry
from warehouse.pipelines.base import ColumnMapping
from warehouse.runner import run_pipeline

FAST = {"first_delay": "1s", "max_delay": "1s"}


def later(seconds: float, action: Callable[[], object]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def test_wait_returns_at_once_when_the_source_is_ready(services: RunServices) -> None:
    params = WaitForSourceParams(partition="2026-03", until=["reachable", "complete", "quality"])
    result = wait(params, step_ctx(services, "aggregate_profit"))
    assert result.attempts == 1 and result.first_problem is None
    assert "at the first probe" in result.evidence()


def test_wait_rides_out_an_outage_that_ends(services: RunServices, clean: Platform) -> None:
    inject(clean, "source_outage", "aggregate_profit", "2026-03")
    timer = later(1.5, lambda: clear_faults(clean))
    params = WaitForSourceParams(partition="2026-03", **FAST)
    result = wait(params, step_ctx(services, "aggregate_profit", sla_left=timedelta(seconds=20)))
    timer.join()
    assert result.attempts > 1 and "cannot be reached" in (result.first_problem or "")
    assert "of a budget of" in result.evidence()


def test_wait_gives_up_within_half_the_sla_left_saying_what_is_wrong(
    services: RunServices, clean: Platform
) -> None:
    inject(clean, "late_arriving_data", "aggregate_profit", "2026-03")
    params = WaitForSourceParams(partition="2026-03", until=["complete"], **FAST)
    ctx = step_ctx(services, "aggregate_profit", sla_left=timedelta(seconds=4))
    with pytest.raises(TerminalStepError, match=r"not ready after \d+ probes") as info:
        wait(params, ctx)
    assert "transactions 2026-03-31" in str(info.value) and "runbook retry" in str(info.value)


def test_contract_records_an_added_column_and_stops_on_a_dropped_one(
    services: RunServices, clean: Platform
) -> None:
    ctx = step_ctx(services, "aggregate_growth")
    inject(clean, "schema_drift", "aggregate_growth", "2026-W11", "column_added")
    result = contract(PartitionParams(partition="2026-W11"), ctx)
    assert [c.column for c in result.absorbed] == ["ingest_batch_id"]
    assert "absorbed: not read" in result.evidence()
    clear_faults(clean, data=True)
    inject(clean, "schema_drift", "aggregate_growth", "2026-W11", "column_dropped")
    with pytest.raises(TerminalStepError, match=r"registrations\.region_code dropped"):
        contract(PartitionParams(partition="2026-W11"), ctx)


def test_late_registrations_are_found_and_backfilled_from_the_logs_once(
    services: RunServices, clean: Platform
) -> None:
    ctx = step_ctx(services, "aggregate_growth")
    inject(clean, "late_arriving_data", "aggregate_growth", "2026-W11")
    found = find_missing(PartitionParams(partition="2026-W11"), ctx)
    assert found.fillable_days == [date(2026, 3, 15)] and found.unfillable_days == []
    assert "activity logs" in found.evidence()
    params = FillParams(partition="2026-W11", days=found.fillable_days)
    filled = activity_logs(params, ctx)
    assert filled.rows > 0 and filled.partition_effect()[0] == "source"  # type: ignore[index]
    assert "into the registration DB" in filled.evidence()
    assert activity_logs(params, ctx).rows == 0
    assert find_missing(PartitionParams(partition="2026-W11"), ctx).source_days == []


def test_missing_events_are_restored_from_backup(services: RunServices, clean: Platform) -> None:
    ctx = step_ctx(services, "aggregate_engagement")
    inject(clean, "late_arriving_data", "aggregate_engagement", "2026-03")
    restored = event_backup(FillParams(partition="2026-03"), ctx)  # days found by itself
    assert restored.days == ["2026-03-31"] and restored.rows > 0
    assert event_backup(FillParams(partition="2026-03"), ctx).days == []


def test_a_half_written_partition_is_cleaned(services: RunServices, clean: Platform) -> None:
    ctx = step_ctx(services, "aggregate_profit")
    run_pipeline(clean, "aggregate_profit", "2026-03")
    crash = inject(clean, "etl_job_failure", "aggregate_profit", "2026-03", "crash_mid_run")
    with pytest.raises(PipelineFailure):
        run_pipeline(clean, "aggregate_profit", "2026-03")
    erase(clean.warehouse, [crash.id])
    cleaned = clean_half_written(PartitionParams(partition="2026-03"), ctx)
    assert cleaned.status == "running" and cleaned.rows_removed["profit_monthly"] > 0
    assert "was half-written" in cleaned.evidence()
    again = clean_half_written(PartitionParams(partition="2026-03"), ctx)
    assert again.status is None and "nothing to clean" in again.evidence()


def test_rerun_retries_a_storage_limit_within_its_budget(
    services: RunServices, clean: Platform
) -> None:
    quota = inject(clean, "storage_partition", "aggregate_profit", "2026-03", "storage_limit")
    timer = later(1.5, lambda: erase(clean.warehouse, [quota.id]))
    ctx = step_ctx(services, "aggregate_profit", sla_left=timedelta(seconds=30))
    result = rerun(RerunParams(partition="2026-03", retry_budget=0.5), ctx)
    timer.join()
    assert result.attempts > 1 and "storage limit" in (result.first_failure or "")
    assert result.partition_effect() == ("partition", "wrote the partition (39 rows)")


def test_rerun_without_a_budget_fails_at_once(services: RunServices, clean: Platform) -> None:
    inject(clean, "etl_job_failure", "aggregate_profit", "2026-03", "transform_error")
    with pytest.raises(PipelineFailure, match="transformation error"):
        rerun(RerunParams(partition="2026-03"), step_ctx(services, "aggregate_profit"))


def test_rerun_gives_up_when_its_budget_is_spent(services: RunServices, clean: Platform) -> None:
    inject(clean, "etl_job_failure", "aggregate_profit", "2026-03", "transform_error")
    ctx = step_ctx(services, "aggregate_profit", sla_left=timedelta(seconds=3))
    with pytest.raises(TerminalStepError, match="kept failing"):
        rerun(RerunParams(partition="2026-03", retry_budget=0.5), ctx)


def test_a_rename_declared_in_the_contract_is_applied_and_shown(
    services: RunServices, clean: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = ColumnMapping("transactions", "product_code_v2", "product_code")
    declared = replace(registry["aggregate_profit"], column_mappings=(mapping,))
    monkeypatch.setitem(registry, "aggregate_profit", declared)
    inject(clean, "schema_drift", "aggregate_profit", "2026-03", "column_renamed")
    ctx = step_ctx(services, "aggregate_profit")
    result = contract(PartitionParams(partition="2026-03"), ctx)
    assert [(c.source_column, c.column) for c in result.applied] == [
        ("product_code_v2", "product_code")
    ]
    assert "| transactions | renamed | product_code_v2 → product_code |" in result.evidence()
    assert rerun(RerunParams(partition="2026-03"), ctx).rows == {"profit_monthly": 39}
