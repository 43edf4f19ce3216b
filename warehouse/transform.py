"""Running a pipeline's transform for one partition: all or nothing, plus the ledger row.

Every step deletes the partition of its table and re-inserts it with one INSERT ... SELECT;
the steps and the ledger update share one transaction, so readers see the old partition or
the new one, never a mix. The new partition is `unchecked` until its checks record a verdict
(`warehouse.partition_state`). The platform's hooks are called before and after the steps
write; the default hooks do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.exc import SQLAlchemyError

from warehouse.calendar import Partition
from warehouse.contract import mapped_sources
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.partition_state import mark_written
from warehouse.pipelines import Pipeline, resolve
from warehouse.sql import bound, partition_params

__all__ = ["TransformResult", "resolve", "run_transform", "write_partition"]


@dataclass(frozen=True)
class TransformResult:
    """Rows written per fact table for one partition."""

    pipeline: str
    partition: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        """All rows written."""
        return sum(self.rows.values())


def run_transform(platform: Platform, pipe: Pipeline, part: Partition) -> TransformResult:
    """Replace the pipeline's partition in the warehouse, atomically; returns rows written.

    One connection does it all: the steps and the ledger row are written and committed in
    one transaction (closing the connection without commit rolls back on any error). Sources
    with a declared rename are read through the contract's names (`warehouse.contract`).
    """
    with platform.warehouse.connect() as conn:
        try:
            with mapped_sources(conn, pipe):
                platform.hooks.before_write(conn, pipe, part)
                rows = write_partition(conn, pipe, part)
                platform.hooks.after_write(conn, pipe, part, rows)
            mark_written(conn, pipe.name, part.key, sum(rows.values()))
            conn.commit()
        except SQLAlchemyError as exc:
            raise PipelineFailure(
                FailureKind.ETL_JOB_FAILURE,
                part.key,
                f"transformation error: {getattr(exc, 'orig', exc)}",
                pipeline=pipe.name,
            ) from exc
    return TransformResult(pipe.name, part.key, rows)


@lru_cache(maxsize=256)
def _delete_sql(table: str) -> TextClause:
    return text(f"DELETE FROM {table} WHERE partition_key = :p")


@lru_cache(maxsize=256)
def _insert_sql(sql: str) -> TextClause:
    return bound(sql)


def write_partition(conn: Connection, pipe: Pipeline, part: Partition) -> dict[str, int]:
    """Replace every fact table's partition on `conn` (no commit); rows written per table.

    The partition's bounds come from `part`, so writing a shifted `Partition` under the same
    key is how a misaligned partition is made.
    """
    params = partition_params(part)
    rows: dict[str, int] = {}
    for step in pipe.steps:
        conn.execute(_delete_sql(step.table), params)
        rows[step.table] = conn.execute(_insert_sql(step.insert_sql), params).rowcount
    return rows
