"""The first-publication scenario: the partition as if its pipeline had never run before.

The clean run still happens first (its bytes are the reference), then everything it left is
taken away: the report and feed files, and the partition's rows and state, so the failure
strikes a partition with nothing written and nothing published. Only faults that damage a
stored partition (a missing or misaligned one) keep its rows: their premise is a partition
that was written. The verdict then proves the runbook's own outputs, not a clean run's.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from faults.catalog import RUN_FIRST
from rehearsal.cells import Cell
from warehouse.db import Platform
from warehouse.outputs import output_files
from warehouse.pipelines import get_pipeline
from warehouse.tables import partition_runs


def forget_first_run(platform: Platform, cell: Cell, outputs: Path) -> None:
    """Remove the clean run's outputs and, unless the fault needs it, its partition."""
    files = output_files(outputs, cell.pipeline, cell.partition)
    files.report_csv.unlink(missing_ok=True)
    files.dashboard_feed.unlink(missing_ok=True)
    if cell.variant in RUN_FIRST:
        return
    pipe = get_pipeline(cell.pipeline)
    key = {"p": cell.partition}
    with platform.warehouse.begin() as conn:
        for table in pipe.tables:
            conn.execute(text(f"DELETE FROM {table} WHERE partition_key = :p"), key)
        conn.execute(
            partition_runs.delete().where(
                partition_runs.c.pipeline == pipe.name,
                partition_runs.c.partition_key == cell.partition,
            )
        )
