"""Finding missing data: days of a partition missing or incomplete, against an expectation.

Two places can lack rows and each is held to something independent of itself:

- a source table's day, against the source's own control total (`source_manifests`, written
  by the source system as it loads): fewer rows than announced means late or lost rows;
- the warehouse's daily fact table, against the source days that have rows: a day with data
  in the source and none in the warehouse is a missing warehouse day.

For each source gap the report also says whether a second copy exists that could fill it
(the activity logs hold registrations and cancellations, the event backup holds events) and
how many rows that copy has for the day. Counting is set-based SQL; only the second copies'
files are read, and only for days with a gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from sqlalchemy import Connection

from warehouse.activity_log_rows import count_activity_log
from warehouse.backup_rows import count_event_backup
from warehouse.calendar import Partition
from warehouse.db import Platform
from warehouse.pipelines import Pipeline
from warehouse.schema import DATE_COLUMNS, SOURCE_TABLES
from warehouse.sql import bound, partition_params

SECOND_COPIES: dict[str, str] = {
    "registrations": "activity logs",
    "subscription_cancellations": "activity logs",
    "events": "event backup",
}
"""Source tables with an independent second copy that can fill their gaps."""


@dataclass(frozen=True)
class DayGap:
    """One day of one table with fewer rows than expected."""

    where: Literal["source", "warehouse"]
    table: str
    day: date
    expected: int
    actual: int
    expectation: str  # what `expected` comes from
    second_copy: str | None = None  # where the missing rows can come from, if anywhere
    copy_rows: int | None = None  # rows the second copy holds for the day

    @property
    def missing(self) -> int:
        """Rows short of the expectation."""
        return self.expected - self.actual


@dataclass(frozen=True)
class GapReport:
    """Every gap of one pipeline's partition."""

    pipeline: str
    partition: str
    gaps: tuple[DayGap, ...] = field(default_factory=tuple)

    def days(self, table: str | None = None, where: str = "source") -> list[date]:
        """Days with a gap (in `table`, default any) on the `where` side, in order."""
        return sorted(
            {g.day for g in self.gaps if g.where == where and (table is None or g.table == table)}
        )

    @property
    def unfillable(self) -> list[DayGap]:
        """Source gaps no second copy can fill: only the source itself can (late rows)."""
        return [g for g in self.gaps if g.where == "source" and g.second_copy is None]


def find_gaps(platform: Platform, pipe: Pipeline, part: Partition) -> GapReport:
    """The partition's source and warehouse gaps, with what a second copy holds for them."""
    params = partition_params(part)
    gaps: list[DayGap] = []
    for table in pipe.complete_tables:
        with platform.source(_source_of(pipe, table)).connect() as conn:
            gaps += _source_gaps(conn, table, params)
    if pipe.daily_table:
        with platform.warehouse.connect() as conn:
            gaps += _warehouse_gaps(conn, pipe, params)
    return GapReport(pipe.name, part.key, tuple(_with_copies(platform, g) for g in gaps))


def _source_of(pipe: Pipeline, table: str) -> str:
    return next(s for s in pipe.sources if any(t.name == table for t in SOURCE_TABLES[s]))


def _source_gaps(conn: Connection, table: str, params: dict) -> list[DayGap]:
    col = DATE_COLUMNS[table]
    sql = f"""SELECT m.day, m.row_count, COALESCE(c.n, 0) FROM source_manifests m
              LEFT JOIN (SELECT {col} AS day, COUNT(*) AS n FROM {table}
                         WHERE {col} BETWEEN :start AND :end GROUP BY {col}) c ON c.day = m.day
              WHERE m.source_table = '{table}' AND m.day BETWEEN :start AND :end
                AND COALESCE(c.n, 0) < m.row_count ORDER BY m.day"""
    rows = conn.execute(bound(sql), params).all()
    return [
        DayGap("source", table, _day(d), int(exp), int(act), "source manifest")
        for d, exp, act in rows
    ]


def _warehouse_gaps(conn: Connection, pipe: Pipeline, params: dict) -> list[DayGap]:
    sql = f"""SELECT m.day, m.row_count FROM source_manifests m
              WHERE m.source_table = '{pipe.primary_table}' AND m.day BETWEEN :start AND :end
                AND m.row_count > 0 AND NOT EXISTS (SELECT 1 FROM {pipe.daily_table} f
                    WHERE f.partition_key = :p AND f.day = m.day) ORDER BY m.day"""
    rows = conn.execute(bound(sql), params).all()
    return [
        DayGap("warehouse", str(pipe.daily_table), _day(d), int(n), 0, "source rows of the day")
        for d, n in rows
    ]


def _with_copies(platform: Platform, gap: DayGap) -> DayGap:
    copy = SECOND_COPIES.get(gap.table) if gap.where == "source" else None
    if copy is None:
        return gap
    config = platform.config
    if copy == "event backup":
        rows = count_event_backup(gap.day, config.event_backup())
    else:
        kind = "registration" if gap.table == "registrations" else "cancellation"
        rows = count_activity_log(gap.day, config.activity_logs(), kind)
    return DayGap(**{**gap.__dict__, "second_copy": copy if rows else None, "copy_rows": rows})


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
