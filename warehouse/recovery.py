"""Building blocks recovery steps call: counts, gaps, backfills and annotations.

Each is idempotent and transactional; the backfill (`warehouse.backfill`) and the restores
(`warehouse.user_restore`, `warehouse.event_restore`) go through one fill path
(`warehouse.fill.fill_by_day`: a transaction per day) and only add rows that are missing by
key, so running a step twice, or after a crash, leaves the same warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from warehouse.annotations import annotate
from warehouse.backfill import backfill_from_activity_logs
from warehouse.calendar import partitions_between
from warehouse.contract import mapped_sources
from warehouse.db import Platform
from warehouse.event_restore import restore_events_from_backup
from warehouse.fill import FillResult
from warehouse.pipelines import get_pipeline, resolve
from warehouse.sql import bound, partition_params
from warehouse.tables import partition_runs
from warehouse.user_restore import restore_users_from_logs


@dataclass(frozen=True)
class SourceCounts:
    """A pipeline's measure in the source and in the warehouse, for one partition."""

    pipeline: str
    partition: str
    measure: str
    source: int
    warehouse: int

    @property
    def matches(self) -> bool:
        """Whether the warehouse agrees with the source."""
        return self.source == self.warehouse


def source_counts(engine: Any, pipeline: str, partition: str) -> SourceCounts:
    """Validate the warehouse against source DB counts (the measure of the pipeline)."""
    platform = Platform.of(engine)
    pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
    params = partition_params(part)
    with platform.source(pipe.sources[0]).connect() as conn, mapped_sources(conn, pipe):
        src = conn.execute(bound(pipe.measure.source_sql), params).scalar_one()
    with platform.warehouse.connect() as conn:
        wh = conn.execute(bound(pipe.measure.warehouse_sql), params).scalar_one()
    return SourceCounts(pipe.name, part.key, pipe.measure.name, int(src), int(wh))


def missing_partitions(engine: Any, pipeline: str, first: date, last: date) -> list[str]:
    """Partitions overlapping [first, last] with no completed run in the ledger."""
    platform = Platform.of(engine)
    pipe = get_pipeline(pipeline)
    wanted = partitions_between(pipe.grain, first, last, platform.config.fiscal_calendar)
    q = select(partition_runs.c.partition_key).where(
        partition_runs.c.pipeline == pipe.name, partition_runs.c.status == "complete"
    )
    with platform.warehouse.connect() as conn:
        done = set(conn.execute(q).scalars())
    return [p.key for p in wanted if p.key not in done]


def missing_days(engine: Any, pipeline: str, partition: str) -> list[date]:
    """Days of the partition with source data but no rows in the pipeline's daily table."""
    platform = Platform.of(engine)
    pipe, part = resolve(pipeline, partition, platform.config.fiscal_calendar)
    if not pipe.daily_table:
        return []
    sql = f"""SELECT m.day FROM source_manifests m
              WHERE m.source_table = '{pipe.primary_table}' AND m.day BETWEEN :start AND :end
                AND m.row_count > 0 AND NOT EXISTS (SELECT 1 FROM {pipe.daily_table} f
                    WHERE f.partition_key = :p AND f.day = m.day) ORDER BY m.day"""
    with platform.warehouse.connect() as conn:
        rows = conn.execute(bound(sql), partition_params(part)).scalars().all()
    return [d if isinstance(d, date) else date.fromisoformat(str(d)) for d in rows]


__all__ = [
    "FillResult",
    "SourceCounts",
    "annotate",
    "backfill_from_activity_logs",
    "missing_days",
    "missing_partitions",
    "restore_events_from_backup",
    "restore_users_from_logs",
    "source_counts",
]
