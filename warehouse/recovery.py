"""Building blocks recovery steps call: counts, gaps, backfills and restores.

Each is idempotent and transactional: a day is replaced as a whole inside one transaction,
so running a step twice, or after a crash, leaves the same warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, bindparam, insert, select, text

from foundation.settings import get_settings
from warehouse.activity_logs import backfill_from_activity_logs
from warehouse.calendar import partitions_between
from warehouse.db import Platform
from warehouse.logs_storage import read_event_backup
from warehouse.schema import events
from warehouse.sql import bound, partition_params
from warehouse.tables import annotations, partition_runs


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
    from warehouse.transform import resolve

    platform = Platform.of(engine)
    pipe, part = resolve(pipeline, partition)
    params = partition_params(part)
    with platform.source(pipe.sources[0]).connect() as conn:
        src = conn.execute(bound(pipe.measure.source_sql), params).scalar_one()
    with platform.warehouse.connect() as conn:
        wh = conn.execute(bound(pipe.measure.warehouse_sql), params).scalar_one()
    return SourceCounts(pipe.name, part.key, pipe.measure.name, int(src), int(wh))


def missing_partitions(engine: Any, pipeline: str, first: date, last: date) -> list[str]:
    """Partitions overlapping [first, last] with no completed run in the ledger."""
    from warehouse.pipelines import get_pipeline

    pipe = get_pipeline(pipeline)
    wanted = partitions_between(pipe.grain, first, last, get_settings().warehouse.fiscal_calendar)
    q = select(partition_runs.c.partition_key).where(
        partition_runs.c.pipeline == pipe.name, partition_runs.c.status == "complete"
    )
    with Platform.of(engine).warehouse.connect() as conn:
        done = set(conn.execute(q).scalars())
    return [p.key for p in wanted if p.key not in done]


def missing_days(engine: Any, pipeline: str, partition: str) -> list[date]:
    """Days of the partition with source data but no rows in the pipeline's daily table."""
    from warehouse.transform import resolve

    pipe, part = resolve(pipeline, partition)
    if not pipe.daily_table:
        return []
    sql = f"""SELECT m.day FROM source_manifests m
              WHERE m.source_table = '{pipe.primary_table}' AND m.day BETWEEN :start AND :end
                AND m.row_count > 0 AND NOT EXISTS (SELECT 1 FROM {pipe.daily_table} f
                    WHERE f.partition_key = :p AND f.day = m.day) ORDER BY m.day"""
    with Platform.of(engine).warehouse.connect() as conn:
        rows = conn.execute(bound(sql), partition_params(part)).scalars().all()
    return [d if isinstance(d, date) else date.fromisoformat(str(d)) for d in rows]


def restore_events_from_backup(engine: Any, days: list[date], root: str | None = None) -> int:
    """Replace the event stream's `days` with the backup files, in one transaction."""
    source = Platform.of(engine).source("events")
    batches = {d: read_event_backup(d, root) for d in days}
    absent = [d.isoformat() for d, rows in batches.items() if rows is None]
    if absent:
        raise FileNotFoundError(f"no event backup for {', '.join(absent)}")
    rows = [
        {
            "event_id": int(r["event_id"]),
            "user_id": int(r["user_id"]) if r["user_id"] else None,
            "session_id": int(r["session_id"]),
            "event_date": date.fromisoformat(r["event_date"]),
            "occurred_at": datetime.fromisoformat(r["occurred_at"]),
            "event_type": r["event_type"] or None,
        }
        for batch in batches.values()
        for r in batch or []
    ]
    with source.begin() as conn:
        conn.execute(
            text("DELETE FROM events WHERE event_date IN :days").bindparams(
                bindparam("days", expanding=True, type_=Date)
            ),
            {"days": days},
        )
        if rows:
            conn.execute(insert(events), rows)
    return len(rows)


def annotate(engine: Any, pipeline: str, partition: str, note: str, author: str) -> None:
    """Record why a partition's numbers moved (it silences the swing check)."""
    with Platform.of(engine).warehouse.begin() as conn:
        conn.execute(
            insert(annotations).values(
                pipeline=pipeline, partition_key=partition, note=note, author=author,
                created_at=datetime.now(),
            )
        )  # fmt: skip


__all__ = [
    "SourceCounts",
    "annotate",
    "backfill_from_activity_logs",
    "missing_days",
    "missing_partitions",
    "restore_events_from_backup",
    "source_counts",
]
