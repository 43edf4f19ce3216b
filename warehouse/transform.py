"""Running a pipeline's transform for one partition: all or nothing, plus the ledger row.

Every step deletes the partition of its table and re-inserts it with one INSERT ... SELECT;
the steps and the ledger update share one transaction, so readers see the old partition or
the new one, never a mix. Injected faults (transform error, crash mid-run, storage limit)
are honoured here, the crash being the one path that commits a half-written partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, insert, text
from sqlalchemy.exc import SQLAlchemyError

from warehouse.calendar import Partition, parse_partition
from warehouse.db import Platform
from warehouse.failures import FailureKind, PipelineFailure
from warehouse.pipelines import Pipeline, get_pipeline
from warehouse.settings import get_settings
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
    return pipe, parse_partition(pipe.grain, partition, get_settings().fiscal_calendar)


def run_transform(
    engine: Engine | Platform, pipeline: str | Pipeline, partition: str | Partition
) -> TransformResult:
    """Replace the pipeline's partition in the warehouse, atomically; returns rows written."""
    from warehouse.faults import active_faults

    wh = Platform.of(engine).warehouse
    pipe, part = resolve(pipeline, partition)
    faults = {f.variant: f for f in active_faults(wh, pipe.name, part.key)}
    if "crash_mid_run" in faults:
        _crash_mid_run(wh, pipe, part)
    try:
        with wh.begin() as conn:
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
    except SQLAlchemyError as exc:
        raise PipelineFailure(
            FailureKind.ETL_JOB_FAILURE,
            part.key,
            f"transformation error: {getattr(exc, 'orig', exc)}",
            pipeline=pipe.name,
        ) from exc
    return TransformResult(pipe.name, part.key, rows)


def _write(conn: Connection, pipe: Pipeline, part: Partition) -> dict[str, int]:
    params = partition_params(part)
    rows: dict[str, int] = {}
    for step in pipe.steps:
        conn.execute(text(f"DELETE FROM {step.table} WHERE partition_key = :p"), params)
        rows[step.table] = conn.execute(bound(step.insert_sql), params).rowcount
    return rows


def _ledger(conn: Connection, pipe: Pipeline, part: Partition, status: str, rows: int) -> None:
    key = (partition_runs.c.pipeline == pipe.name) & (partition_runs.c.partition_key == part.key)
    conn.execute(delete(partition_runs).where(key))
    now = datetime.now()
    conn.execute(
        insert(partition_runs).values(
            pipeline=pipe.name,
            partition_key=part.key,
            status=status,
            row_count=rows,
            started_at=now,
            finished_at=now if status == "complete" else None,
        )
    )


def _crash_mid_run(wh: Engine, pipe: Pipeline, part: Partition) -> None:
    """The injected crash: commit part of the write, leave the ledger `running`, then die."""
    params = partition_params(part)
    with wh.begin() as conn:
        _ledger(conn, pipe, part, "running", 0)
        last = pipe.steps[-1]
        for step in pipe.steps:
            conn.execute(text(f"DELETE FROM {step.table} WHERE partition_key = :p"), params)
            if step is last and not step.crash_keep:
                break
            conn.execute(bound(step.insert_sql), params)
        if last.crash_keep:
            conn.execute(
                text(
                    f"DELETE FROM {last.table} WHERE partition_key = :p AND NOT ({last.crash_keep})"
                ),
                params,
            )
    raise PipelineFailure(
        FailureKind.ETL_JOB_FAILURE,
        part.key,
        f"worker crashed while writing {last.table}; partition left half-written",
        pipeline=pipe.name,
    )
