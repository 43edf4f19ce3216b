"""Running a pipeline's transform for one partition: all or nothing, plus the ledger row.

Every step deletes the partition of its table and re-inserts it with one INSERT ... SELECT;
the steps and the ledger update share one transaction, so readers see the old partition or
the new one, never a mix. Injected faults (transform error, crash mid-run, storage limit)
are honoured here, the crash being the one path that commits a half-written partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NoReturn

from sqlalchemy import Connection, Engine, TextClause, bindparam, delete, insert, text
from sqlalchemy.exc import SQLAlchemyError

from foundation.settings import get_settings
from warehouse.calendar import Partition, parse_partition
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.pipelines import Pipeline, get_pipeline
from warehouse.sql import bound, partition_params
from warehouse.tables import partition_runs


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


def resolve(pipeline: str | Pipeline, partition: str | Partition) -> tuple[Pipeline, Partition]:
    """The pipeline definition and the parsed partition (fiscal calendar from settings)."""
    pipe = get_pipeline(pipeline)
    if isinstance(partition, Partition):
        return pipe, partition
    return pipe, parse_partition(pipe.grain, partition, get_settings().warehouse.fiscal_calendar)


def run_transform(
    engine: Engine | Platform, pipeline: str | Pipeline, partition: str | Partition
) -> TransformResult:
    """Replace the pipeline's partition in the warehouse, atomically; returns rows written.

    One connection does it all: the injected faults are read on it, then the steps and the
    ledger row are written and committed in one transaction (closing it rolls back on error).
    """
    from warehouse.faults import active_faults

    wh = Platform.of(engine).warehouse
    pipe, part = resolve(pipeline, partition)
    with wh.connect() as conn:
        faults = {f.variant: f for f in active_faults(conn, pipe.name, part.key)}
        if "crash_mid_run" in faults:
            _crash_mid_run(conn, pipe, part)
        try:
            if "transform_error" in faults:
                conn.execute(text(f"SELECT no_such_column FROM {pipe.primary_table}"))
            rows = _write(conn, pipe, part)
            quota = faults.get("storage_limit")
            if quota and sum(rows.values()) > quota.params.get("max_rows", 0):
                raise PipelineFailure(
                    FailureKind.STORAGE_PARTITION,
                    part.key,
                    f"storage limit reached: {sum(rows.values())} rows exceed the quota of "
                    f"{quota.params.get('max_rows', 0)}",
                    pipeline=pipe.name,
                )
            _ledger(conn, pipe, part, "complete", sum(rows.values()))
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


_LEDGER_DELETE = delete(partition_runs).where(
    partition_runs.c.pipeline == bindparam("l_pipeline"),
    partition_runs.c.partition_key == bindparam("l_partition"),
)
_LEDGER_INSERT = insert(partition_runs)


def _write(conn: Connection, pipe: Pipeline, part: Partition) -> dict[str, int]:
    params = partition_params(part)
    rows: dict[str, int] = {}
    for step in pipe.steps:
        conn.execute(_delete_sql(step.table), params)
        rows[step.table] = conn.execute(_insert_sql(step.insert_sql), params).rowcount
    return rows


def _ledger(conn: Connection, pipe: Pipeline, part: Partition, status: str, rows: int) -> None:
    conn.execute(_LEDGER_DELETE, {"l_pipeline": pipe.name, "l_partition": part.key})
    now = datetime.now()
    conn.execute(
        _LEDGER_INSERT,
        {
            "pipeline": pipe.name,
            "partition_key": part.key,
            "status": status,
            "row_count": rows,
            "started_at": now,
            "finished_at": now if status == "complete" else None,
        },
    )


def _crash_mid_run(conn: Connection, pipe: Pipeline, part: Partition) -> NoReturn:
    """The injected crash: commit part of the write, leave the ledger `running`, then die."""
    params = partition_params(part)
    _ledger(conn, pipe, part, "running", 0)
    last = pipe.steps[-1]
    for step in pipe.steps:
        conn.execute(_delete_sql(step.table), params)
        if step is last and not step.crash_keep:
            break
        conn.execute(_insert_sql(step.insert_sql), params)
    if last.crash_keep:
        conn.execute(
            text(f"DELETE FROM {last.table} WHERE partition_key = :p AND NOT ({last.crash_keep})"),
            params,
        )
    conn.commit()
    raise PipelineFailure(
        FailureKind.ETL_JOB_FAILURE,
        part.key,
        f"worker crashed while writing {last.table}; partition left half-written",
        pipeline=pipe.name,
    )
