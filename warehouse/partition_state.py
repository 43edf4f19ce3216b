"""What `partition_runs` says about a partition, and who may read it.

A partition moves through these states (one row per pipeline and partition):

- `running`: a write began and never finished; the partition may be half-written.
- `unchecked`: the transform replaced the partition atomically; no check has run since.
- `complete`: written, and every blocking check passed on it.
- `quarantined`: written, but blocking checks failed (`failing_checks` says which).

Checks record their verdict (`record_verdict`), so every run of them (the pipeline flow, a
recovery step, `runbook pipeline check`) leaves the state current. Readers that turn the
warehouse into something people see call `require_readable`: only `complete` passes, so the
files and the portal keep the last good output until the partition is good again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, insert, select, update

from foundation.errors import RecoveryError, TerminalError
from warehouse.partition_status import WRITTEN, PartitionStatus
from warehouse.tables import partition_runs


@dataclass(frozen=True)
class PartitionState:
    """One row of `partition_runs`, read back."""

    pipeline: str
    partition: str
    status: str
    row_count: int | None
    started_at: datetime | None
    checked_at: datetime | None
    failing_checks: list[dict[str, Any]] = field(default_factory=list)

    def label(self) -> str:
        """The partition and its state in a few words, e.g. `2026-03 (quarantined: x, y)`."""
        failing = ", ".join(self.failing_names)
        return f"{self.partition} ({self.status}{': ' + failing if failing else ''})"

    @property
    def failing_names(self) -> list[str]:
        """Names of the blocking checks that failed at the last check."""
        return [c["name"] for c in self.failing_checks]

    def why_not_readable(self) -> str | None:
        """Why nothing may be built from this partition, or None when it is `complete`."""
        where = f"{self.pipeline} {self.partition}"
        failing = ", ".join(self.failing_names) or "none recorded"
        if self.status == PartitionStatus.COMPLETE:
            return None
        if self.status == PartitionStatus.RUNNING:
            return (
                f"{where} is half-written: a run started at {self.started_at:%Y-%m-%d %H:%M:%S} "
                f"never finished (failing checks: {failing}); re-run the pipeline"
            )
        if self.status == PartitionStatus.QUARANTINED:
            return (
                f"{where} is quarantined: blocking checks failed: {failing}; fix the cause and "
                "re-run the pipeline (its checks decide again)"
            )
        if self.status == PartitionStatus.UNCHECKED:
            return f"{where} was written but not checked since; run its checks first"
        return f"{where} has status {self.status!r}; re-run the pipeline"


class PartitionNotReadyError(RecoveryError, TerminalError):
    """A partition that is not `complete` was asked for a report or feed."""

    def __init__(self, message: str, state: PartitionState | None = None) -> None:
        super().__init__(message)
        self.state = state


_KEY = and_(
    partition_runs.c.pipeline == bindparam("s_pipeline"),
    partition_runs.c.partition_key == bindparam("s_partition"),
)


def _key(pipeline: str, partition: str) -> dict[str, str]:
    return {"s_pipeline": pipeline, "s_partition": partition}


def _replace(conn: Connection, pipeline: str, partition: str, status: str, rows: int) -> None:
    now = datetime.now()
    conn.execute(delete(partition_runs).where(_KEY), _key(pipeline, partition))
    conn.execute(
        insert(partition_runs).values(
            pipeline=pipeline, partition_key=partition, status=status, row_count=rows,
            started_at=now, finished_at=None if status == PartitionStatus.RUNNING else now,
        )
    )  # fmt: skip


def mark_written(conn: Connection, pipeline: str, partition: str, rows: int) -> None:
    """The transform replaced the partition (same transaction): `unchecked` until checked."""
    _replace(conn, pipeline, partition, PartitionStatus.UNCHECKED, rows)


def mark_running(conn: Connection, pipeline: str, partition: str) -> None:
    """A write began; until a transform finishes, the partition counts as half-written."""
    _replace(conn, pipeline, partition, PartitionStatus.RUNNING, 0)


def mark_changed(conn: Connection, pipeline: str, partition: str) -> None:
    """Rows of a written partition changed outside the transform (a backfill): re-check it."""
    conn.execute(
        update(partition_runs)
        .where(_KEY, partition_runs.c.status.in_([str(s) for s in WRITTEN]))
        .values(status=PartitionStatus.UNCHECKED),
        _key(pipeline, partition),
    )


def record_verdict(
    conn: Connection,
    pipeline: str,
    partition: str,
    failing: list[dict[str, Any]],
    checked: PartitionState | None,
) -> None:
    """Store the checks' verdict: `complete` with no failing blocking check, else `quarantined`.

    `checked` is the state read before the checks ran: if another write replaced the
    partition meanwhile, the verdict is about data that is gone and is not stored. A `running`
    partition stays `running` (only a finished transform ends that state), but its failing
    checks are stored too, so its state explains itself.
    """
    if checked is None or checked.started_at is None:
        return
    same = partition_runs.c.started_at == checked.started_at
    status = PartitionStatus.QUARANTINED if failing else PartitionStatus.COMPLETE
    values = {
        "failing_checks": json.dumps(failing) if failing else None,
        "checked_at": datetime.now(),
    }
    written = partition_runs.c.status.in_([str(s) for s in WRITTEN])
    conn.execute(
        update(partition_runs).where(_KEY, same, written).values(status=status, **values),
        _key(pipeline, partition),
    )
    conn.execute(
        update(partition_runs).where(_KEY, same, ~written).values(**values),
        _key(pipeline, partition),
    )


def read_state(engine: Engine | Connection, pipeline: str, partition: str) -> PartitionState | None:
    """The partition's row of `partition_runs`, or None if it was never written."""
    q = select(partition_runs).where(_KEY)
    if isinstance(engine, Connection):
        row = engine.execute(q, _key(pipeline, partition)).mappings().first()
    else:
        with engine.connect() as conn:
            row = conn.execute(q, _key(pipeline, partition)).mappings().first()
    return None if row is None else _state(row)


def not_complete(engine: Engine, pipeline: str | None = None) -> list[PartitionState]:
    """Every partition (of `pipeline`, or of every pipeline) that is not `complete`."""
    query = select(partition_runs).where(partition_runs.c.status != PartitionStatus.COMPLETE)
    if pipeline is not None:
        query = query.where(partition_runs.c.pipeline == pipeline)
    order = (partition_runs.c.pipeline, partition_runs.c.partition_key)
    with engine.connect() as conn:
        return [_state(row) for row in conn.execute(query.order_by(*order)).mappings()]


def _state(row: Any) -> PartitionState:
    return PartitionState(
        pipeline=row["pipeline"],
        partition=row["partition_key"],
        status=row["status"],
        row_count=row["row_count"],
        started_at=row["started_at"],
        checked_at=row["checked_at"],
        failing_checks=json.loads(row["failing_checks"]) if row["failing_checks"] else [],
    )


def require_readable(conn: Connection, pipeline: str, partition: str) -> PartitionState:
    """The partition's state if it is `complete`; otherwise `PartitionNotReadyError` saying why."""
    state = read_state(conn, pipeline, partition)
    if state is None:
        raise PartitionNotReadyError(
            f"{pipeline} {partition} has never been built; run the pipeline for it first"
        )
    reason = state.why_not_readable()
    if reason:
        raise PartitionNotReadyError(f"refusing to build a report: {reason}", state)
    return state
