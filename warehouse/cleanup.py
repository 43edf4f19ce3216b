"""Cleaning a half-written partition: remove what an unfinished write left, so a re-run starts
from nothing.

A write that never finished leaves its partition `running` in `partition_runs`
(`warehouse.partition_state`); whatever rows it committed are its own, because a write
replaces the whole partition. Cleaning deletes those rows from every fact table of the
pipeline and the ledger row, in one transaction: the partition is then as if never written,
which no reader mistakes for data, and the next transform writes it whole. A partition in any
other state is left alone, so cleaning twice (or cleaning a healthy partition) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text

from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.partition_state import PartitionStatus, read_state
from warehouse.pipelines import Pipeline
from warehouse.tables import partition_runs


@dataclass(frozen=True)
class CleanResult:
    """What cleaning found and removed."""

    pipeline: str
    partition: str
    status: str | None  # the state found (None: never written)
    started_at: datetime | None = None
    rows_removed: dict[str, int] = field(default_factory=dict)

    @property
    def cleaned(self) -> bool:
        """Whether a half-written partition was removed."""
        return self.status == PartitionStatus.RUNNING


def clean_half_written(platform: Platform, pipe: Pipeline, part: Partition) -> CleanResult:
    """Remove a `running` partition's rows and ledger row; leave any other state alone."""
    with platform.warehouse.begin() as conn:
        state = read_state(conn, pipe.name, part.key)
        if state is None or state.status != PartitionStatus.RUNNING:
            return CleanResult(pipe.name, part.key, state.status if state else None)
        removed = {
            table: conn.execute(
                text(f"DELETE FROM {table} WHERE partition_key = :p"), {"p": part.key}
            ).rowcount
            for table in pipe.tables
        }
        conn.execute(
            partition_runs.delete().where(
                partition_runs.c.pipeline == pipe.name,
                partition_runs.c.partition_key == part.key,
                partition_runs.c.status == PartitionStatus.RUNNING.value,
            )
        )
    return CleanResult(pipe.name, part.key, state.status, state.started_at, removed)
