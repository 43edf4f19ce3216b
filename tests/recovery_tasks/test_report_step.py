"""`reports.build` at the end of every runbook: the outputs on disk become the recovered
partition's, whatever the last run left (stale numbers, or nothing at all)."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest

from faults import inject
from foundation.errors import is_terminal
from recovery_tasks.backfill import FillParams, event_backup
from recovery_tasks.params import PartitionParams
from recovery_tasks.reports import build
from recovery_tasks.services import RunServices
from tests.recovery_tasks.conftest import step_ctx
from warehouse.db import Platform
from warehouse.logs_storage import day_path
from warehouse.outputs import output_files
from warehouse.runner import run_pipeline
from warehouse.second_copies import DamagedCopyError

PIPELINE, PARTITION = "unit_profit_experiments", "2026-03-14"
LAST_DAY = date(2026, 3, 31)  # the day a late-data fault holds rows back from, in 2026-03


def _clean_outputs(services: RunServices, clean: Platform) -> tuple[Path, Path, bytes, bytes]:
    run_pipeline(clean, PIPELINE, PARTITION, services.output_dir)
    files = output_files(services.output_dir, PIPELINE, PARTITION)
    return (
        files.report_csv,
        files.dashboard_feed,
        *(p.read_bytes() for p in (files.report_csv, files.dashboard_feed)),
    )


def test_an_experiment_report_left_with_old_numbers_is_rewritten_to_the_clean_one(
    services: RunServices, clean: Platform
) -> None:
    report, feed, clean_report, clean_feed = _clean_outputs(services, clean)
    stale = clean_report.decode().splitlines()
    report.write_text("\n".join([stale[0], *stale[2:]]) + "\n")  # a run before rows arrived
    feed.write_text('{"rows": []}')

    result = build(PartitionParams(partition=PARTITION), step_ctx(services, PIPELINE))

    assert (report.read_bytes(), feed.read_bytes()) == (clean_report, clean_feed)
    assert result.compared_with == "written" and result.rows_added == 1
    assert "Against the last written report: +1 / -0 rows" in result.evidence()


def test_an_experiment_report_is_written_after_a_first_run_failure(
    services: RunServices, clean: Platform
) -> None:
    report, feed, clean_report, clean_feed = _clean_outputs(services, clean)
    report.unlink()
    feed.unlink()  # the first run failed: no output ever existed

    result = build(PartitionParams(partition=PARTITION), step_ctx(services, PIPELINE))

    assert (report.read_bytes(), feed.read_bytes()) == (clean_report, clean_feed)
    assert f"No report written yet for {PARTITION}: first output." in result.evidence()


def test_a_damaged_backup_stops_the_restore_step_naming_the_retry(
    services: RunServices, clean: Platform
) -> None:
    inject(clean, "late_arriving_data", "aggregate_engagement", "2026-03")
    path = Path(day_path(clean.config.event_backup(), LAST_DAY, ".csv.gz"))
    good = path.read_bytes()
    try:
        text = gzip.decompress(good)
        path.write_bytes(gzip.compress(text[: len(text) // 2]))  # text stops mid-row
        ctx = step_ctx(services, "aggregate_engagement")
        ctx.incident["id"] = 42
        with pytest.raises(DamagedCopyError) as info:
            event_backup(FillParams(partition="2026-03", days=[LAST_DAY]), ctx)
    finally:
        path.write_bytes(good)
    assert is_terminal(info.value)
    assert f"{path} line " in str(info.value)
    assert f"restore a good copy of {path}, then run `runbook retry 42`" in str(info.value)
