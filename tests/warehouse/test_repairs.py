"""What recovery steps build on: gaps against an expectation, restores, readiness, cleaning."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from faults import clear_faults, inject
from faults.records import erase
from tests.warehouse.fixtures import at
from tests.warehouse.sample import GOLDEN, PARTITIONS
from warehouse.cleanup import clean_half_written
from warehouse.completeness import find_gaps
from warehouse.db import Platform
from warehouse.event_restore import restore_events_from_backup
from warehouse.failures import PipelineFailure
from warehouse.partition_state import read_state
from warehouse.readiness import probe
from warehouse.runner import run_pipeline
from warehouse.user_restore import RESTORED_MARK, restore_users_from_logs


def golden(pipeline: str) -> str:
    return (GOLDEN / f"{pipeline}__{PARTITIONS[pipeline]}.csv").read_text()


def test_no_gaps_in_the_sample(clean: Platform) -> None:
    run_pipeline(clean, "aggregate_growth", "2026-W11")
    assert find_gaps(clean, *at(clean, "aggregate_growth", "2026-W11")).gaps == ()


def test_late_rows_are_a_source_gap_a_second_copy_can_fill(clean: Platform) -> None:
    inject(clean, "late_arriving_data", "aggregate_growth", "2026-W11")
    report = find_gaps(clean, *at(clean, "aggregate_growth", "2026-W11"))
    (gap,) = report.gaps
    assert (gap.where, gap.table, gap.day) == ("source", "registrations", date(2026, 3, 15))
    assert gap.expectation == "source manifest" and gap.missing > 0
    assert gap.second_copy == "activity logs" and gap.copy_rows == gap.expected
    assert report.unfillable == []


def test_late_transactions_have_no_second_copy(clean: Platform) -> None:
    inject(clean, "late_arriving_data", "aggregate_profit", "2026-03")
    report = find_gaps(clean, *at(clean, "aggregate_profit", "2026-03"))
    assert [(g.table, g.day, g.second_copy) for g in report.unfillable] == [
        ("transactions", date(2026, 3, 31), None)
    ]


def test_missing_warehouse_days_are_warehouse_gaps(clean: Platform) -> None:
    inject(clean, "storage_partition", "aggregate_growth", "2026-W11", "missing_partition")
    report = find_gaps(clean, *at(clean, "aggregate_growth", "2026-W11"))
    assert report.days(where="warehouse") == [date(2026, 3, 14), date(2026, 3, 15)]
    assert report.days() == []


def test_users_restored_from_logs_give_the_clean_report_and_only_once(clean: Platform) -> None:
    inject(clean, "late_arriving_data", "aggregate_growth", "2026-W11")
    day = date(2026, 3, 15)
    seen: list[int] = []
    first = restore_users_from_logs(clean, [day], progress=lambda p: seen.append(p.days_done))
    assert first.rows_inserted > 0 and seen == [1]
    assert restore_users_from_logs(clean, [day]).rows_inserted == 0
    with clean.source("registrations").connect() as conn:
        marked = conn.execute(
            text("SELECT COUNT(*) FROM registrations WHERE channel = :m"), {"m": RESTORED_MARK}
        ).scalar_one()
    assert marked == first.rows_inserted
    result = run_pipeline(clean, "aggregate_growth", "2026-W11")
    assert result.outputs.report_csv.read_text() == golden("aggregate_growth")


def test_events_restore_streams_and_reports_progress(clean: Platform) -> None:
    inject(clean, "late_arriving_data", "aggregate_engagement", "2026-03")
    days = find_gaps(clean, *at(clean, "aggregate_engagement", "2026-03")).days("events")
    progress = []
    filled = restore_events_from_backup(clean, days, concurrency=3, progress=progress.append)
    assert filled.rows_inserted > 0 and filled.rows_read > filled.rows_inserted
    assert [p.days_done for p in progress] == list(range(1, len(days) + 1))
    assert find_gaps(clean, *at(clean, "aggregate_engagement", "2026-03")).days("events") == []
    assert restore_events_from_backup(clean, days).rows_inserted == 0


def test_restores_refuse_days_without_a_second_copy(clean: Platform) -> None:
    with pytest.raises(FileNotFoundError, match="no activity log for 2030-01-01"):
        restore_users_from_logs(clean, [date(2030, 1, 1)])


@pytest.mark.parametrize(
    ("kind", "variant", "condition", "says"),
    [
        ("source_outage", "unreachable", "reachable", "cannot be reached"),
        ("schema_drift", "column_dropped", "contract", "product_code dropped"),
        ("late_arriving_data", "held_back", "complete", "transactions 2026-03-31"),
        ("data_quality", "null_critical", "quality", "critical_not_null"),
        ("data_quality", "wrong_mapping", "quality", "valid_mapping"),
    ],
)
def test_readiness_names_the_condition_that_fails(
    clean: Platform, kind: str, variant: str, condition: str, says: str
) -> None:
    everything = ["reachable", "contract", "complete", "quality"]
    assert probe(clean, *at(clean, "aggregate_profit", "2026-03"), everything).ready
    inject(clean, kind, "aggregate_profit", "2026-03", variant)
    readiness = probe(clean, *at(clean, "aggregate_profit", "2026-03"), everything)
    assert list(readiness.not_ready) == [condition]
    assert says in readiness.reason()
    clear_faults(clean, data=True)
    assert probe(clean, *at(clean, "aggregate_profit", "2026-03"), everything).ready


def test_a_half_written_partition_is_cleaned_once(clean: Platform) -> None:
    run_pipeline(clean, "aggregate_profit", "2026-03")
    assert not clean_half_written(clean, *at(clean, "aggregate_profit", "2026-03")).cleaned
    crash = inject(clean, "etl_job_failure", "aggregate_profit", "2026-03", "crash_mid_run")
    with pytest.raises(PipelineFailure, match="half-written"):
        run_pipeline(clean, "aggregate_profit", "2026-03")
    erase(clean.warehouse, [crash.id])  # the crash is over; the half-written partition stays
    cleaned = clean_half_written(clean, *at(clean, "aggregate_profit", "2026-03"))
    assert cleaned.cleaned and cleaned.rows_removed["profit_monthly"] > 0
    assert read_state(clean.warehouse, "aggregate_profit", "2026-03") is None
    assert not clean_half_written(clean, *at(clean, "aggregate_profit", "2026-03")).cleaned
    result = run_pipeline(clean, "aggregate_profit", "2026-03")
    assert result.outputs.report_csv.read_text() == golden("aggregate_profit")
