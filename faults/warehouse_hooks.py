"""The warehouse hooks of the fault layer: outages, transform errors, crashes, storage quotas.

Installed as the warehouse's `WarehouseHooks` (`faults.activation.install`), they read the
fault records of the partition at hand and make the matching failure happen the way the real
one would: an unreachable source raises the driver's connection error, a transform error is
a failing statement, a crash commits part of the write and leaves the run `running`, a
quota rolls the write back. With no record, every hook returns without doing anything.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from faults.catalog import CRASH_KEEP
from faults.injection import forget_faults
from faults.records import InjectedFault, active_faults
from warehouse.calendar import Partition
from warehouse.db import Platform, WarehouseHooks
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.partition_state import mark_running
from warehouse.pipelines import Pipeline
from warehouse.sql import partition_params
from warehouse.transform import write_partition


class FaultHooks(WarehouseHooks):
    """Honour the recorded faults at the warehouse's seams."""

    def before_connect(self, platform: Platform, source: str) -> None:
        """An injected outage of `source`: connecting fails as a refused connection would."""
        for fault in active_faults(platform.warehouse):
            if fault.kind == FailureKind.SOURCE_OUTAGE and fault.target == source:
                raise OperationalError(
                    "SELECT 1",
                    None,
                    ConnectionRefusedError(f"connection refused (injected fault #{fault.id})"),
                )

    def before_write(self, conn: Connection, pipe: Pipeline, part: Partition) -> None:
        """A crash commits a half-written partition; a transform error fails a statement."""
        faults = _by_variant(conn, pipe, part)
        if "crash_mid_run" in faults:
            _crash_mid_run(conn, pipe, part)
        if "transform_error" in faults:
            conn.execute(text(f"SELECT no_such_column FROM {pipe.primary_table}"))

    def after_write(
        self, conn: Connection, pipe: Pipeline, part: Partition, rows: dict[str, int]
    ) -> None:
        """A storage quota smaller than the write fails it (the transaction rolls back)."""
        quota = _by_variant(conn, pipe, part).get("storage_limit")
        limit = int(quota.params.get("max_rows", 0)) if quota else None
        if limit is not None and sum(rows.values()) > limit:
            raise PipelineFailure(
                FailureKind.STORAGE_PARTITION,
                part.key,
                f"storage limit reached: {sum(rows.values())} rows exceed the quota of {limit}",
                pipeline=pipe.name,
            )

    def after_reset(self, platform: Platform) -> None:
        """Regenerated data voids every record (and snapshot) about the old data."""
        forget_faults(platform)


def _by_variant(conn: Connection, pipe: Pipeline, part: Partition) -> dict[str, InjectedFault]:
    return {f.variant: f for f in active_faults(conn, pipe.name, part.key)}


def _crash_mid_run(conn: Connection, pipe: Pipeline, part: Partition) -> None:
    """Commit part of the write with the ledger `running`, then die as a killed worker would."""
    mark_running(conn, pipe.name, part.key)
    write_partition(conn, pipe, part)
    last = pipe.steps[-1].table
    keep = CRASH_KEEP.get(pipe.name)
    lost = f"NOT ({keep})" if keep else "1 = 1"
    conn.execute(
        text(f"DELETE FROM {last} WHERE partition_key = :p AND {lost}"), partition_params(part)
    )
    conn.commit()
    raise PipelineFailure(
        FailureKind.ETL_JOB_FAILURE,
        part.key,
        f"worker crashed while writing {last}; partition left half-written",
        pipeline=pipe.name,
    )
