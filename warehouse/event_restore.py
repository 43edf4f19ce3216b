"""Filling the event stream from backup storage: each day's file checked, staged, then merged.

This is the one event restore: the `backfill.event_backup` step and the fill bench run it.
Days go through `warehouse.fill.fill_by_day`: one transaction per day, days at once on
PostgreSQL, progress per day. A day's file is streamed, never held in memory: every row is
validated as it is read (`warehouse.backup_rows`) and put in a staging table (`executemany`
on SQLite, `COPY` on PostgreSQL); a damaged file stops the day before anything reaches
`events`, naming file, line and day. The merge is SQL (`warehouse.provenance`): rows an
earlier restore of the day inserted are replaced, keys the stream already holds are left as
they are (an event that reached the source after its backup was written is kept), and every
inserted row is recorded with its file and load. A second run from the same file changes
nothing; a crash loses at most the days in flight.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import date

from sqlalchemy import Connection, Engine, text

from warehouse.backup_rows import EventRow, event_rows
from warehouse.db import Platform
from warehouse.fill import FillResult, Progress, fill_by_day
from warehouse.logs_storage import EVENT_COLUMNS, day_path, event_backup_exists
from warehouse.provenance import Load, Target, ensure_records, replace_restored

_COLS = ", ".join(EVENT_COLUMNS)
_STAGE = "event_restore_stage"
_STAGE_TABLE = """(event_id BIGINT, user_id BIGINT, session_id BIGINT, event_date DATE,
                    occurred_at TIMESTAMP, event_type VARCHAR(16))"""
_CREATE = {
    "sqlite": f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} {_STAGE_TABLE}",
    "postgresql": f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} {_STAGE_TABLE} "
    "ON COMMIT DELETE ROWS",
}
_INSERT = f"""INSERT INTO events ({_COLS}) SELECT {_COLS} FROM {_STAGE} WHERE true
              ON CONFLICT (event_id) DO NOTHING"""
_EVENTS = Target("events", "event_id", _STAGE, _INSERT, still_ours="event_date = :day")


def restore_events_from_backup(
    engine: Engine | Platform,
    days: list[date],
    *,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> FillResult:
    """Add the events of `days` that the backup holds and the event stream lacks (by event_id).

    Every requested day must have a backup file (checked before anything is written). A
    damaged file stops the restore with `DamagedCopyError` naming file, line and day; the
    days before it stay restored, nothing of the damaged day is written.
    """
    platform = Platform.of(engine)
    root = platform.config.event_backup()
    wanted = sorted(set(days))
    absent = [d.isoformat() for d in wanted if not event_backup_exists(d, root)]
    if absent:
        raise FileNotFoundError(f"no event backup for {', '.join(absent)} under {root}")
    source = platform.source("events")
    ensure_records(source)
    load = Load(root)

    def fill_day(conn: Connection, day: date) -> tuple[int, int]:
        conn.execute(text(_CREATE[conn.dialect.name]))
        conn.execute(text(f"DELETE FROM {_STAGE}"))
        read = _stage(conn, event_rows(root, day))
        path = day_path(root, day, ".csv.gz")
        return replace_restored(conn, _EVENTS, day, load.of_file(path)), read

    return fill_by_day(source, wanted, fill_day, concurrency=concurrency, progress=progress)


def _stage(conn: Connection, rows: Iterator[EventRow]) -> int:
    """Put the validated rows in the staging table; returns how many."""
    counted = _Counted(rows)
    with closing(conn.connection.cursor()) as cur:
        if conn.dialect.name == "postgresql":
            with cur.copy(f"COPY {_STAGE} ({_COLS}) FROM STDIN") as copy:
                for row in counted:
                    copy.write_row(row)
        else:  # SQLite stores dates and times as the text the warehouse's own rows use
            marks = ", ".join("?" * len(EVENT_COLUMNS))
            cur.executemany(f"INSERT INTO {_STAGE} VALUES ({marks})", _as_text(counted))
    return counted.n


def _as_text(rows: Iterable[EventRow]) -> Iterator[tuple]:
    for event_id, user_id, session_id, day, moment, kind in rows:
        yield event_id, user_id, session_id, day.isoformat(), str(moment), kind


class _Counted:
    """An iterator that counts what passed through it."""

    def __init__(self, rows: Iterator[EventRow]) -> None:
        self._rows, self.n = rows, 0

    def __iter__(self) -> Iterator[EventRow]:
        for row in self._rows:
            self.n += 1
            yield row
