"""Filling the event stream from backup storage: each day's file streamed in, insert-only.

This is the one event restore: the `backfill.event_backup` step and the fill bench run it.
Days go through `warehouse.fill.fill_by_day`: one transaction per day, days at once on
PostgreSQL, progress per day. A day's file is never held in memory and Python touches no row.
SQLite receives the CSV rows straight from the decompressing reader through `executemany` of
one `INSERT ... ON CONFLICT (event_id) DO NOTHING`. PostgreSQL `COPY`s a day that has no rows
yet straight into `events` (a whole day missing: the bulk load itself), and any other day
into a temporary table, inserting from it the same way. Either way a key already in the table
is left as it is (an event that reached the source after its backup was written is kept), a
crash loses at most the days in flight, and a second run adds nothing. A file that is
damaged, or holds a row of another day or of the wrong type, stops the restore at that day
with the file and line.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from contextlib import closing
from datetime import date
from typing import IO

import psycopg
from sqlalchemy import Connection, Engine, text

from warehouse.db import Platform
from warehouse.fill import FillResult, Progress, fill_by_day
from warehouse.logs_storage import (
    EVENT_COLUMNS,
    UNREADABLE,
    BackupFileError,
    backup_line_of,
    event_backup_exists,
    open_event_backup,
)

_COLS = ", ".join(EVENT_COLUMNS)
_BLOCK = 1 << 20  # bytes handed to COPY at a time


def restore_events_from_backup(
    engine: Engine | Platform,
    days: list[date],
    *,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> FillResult:
    """Add the events of `days` that the backup holds and the event stream lacks (by event_id).

    Every requested day must have a backup file (checked before anything is written). A
    damaged file or a bad row stops the restore with `BackupFileError` naming the file and
    line; the days before it stay restored, the day in flight is rolled back.
    """
    platform = Platform.of(engine)
    root = platform.config.event_backup()
    wanted = sorted(set(days))
    absent = [d.isoformat() for d in wanted if not event_backup_exists(d, root)]
    if absent:
        raise FileNotFoundError(f"no event backup for {', '.join(absent)} under {root}")
    source = platform.source("events")
    load = _postgres_day if source.dialect.name == "postgresql" else _sqlite_day

    def fill_day(conn: Connection, day: date) -> tuple[int, int]:
        return load(conn, day, root)

    return fill_by_day(source, wanted, fill_day, concurrency=concurrency, progress=progress)


def _sqlite_day(conn: Connection, day: date, root: str) -> tuple[int, int]:
    """Insert the file's rows through one prepared statement; empty fields become NULL.

    A row of another day fails the statement at its line (its `event_date` becomes NULL).
    SQLite stores what it is given, so the day's rows are then checked for types, the
    check PostgreSQL's COPY makes on the way in.
    """
    with open_event_backup(day, root) as (path, _header, stream):
        return _sqlite_insert(conn, day, path, stream)


def _sqlite_insert(conn: Connection, day: date, path: str, stream: IO[bytes]) -> tuple[int, int]:
    reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8", newline=""))
    sql = f"""INSERT INTO events ({_COLS})
              VALUES (?1, NULLIF(?2, ''), ?3, CASE WHEN ?4 = '{day.isoformat()}' THEN ?4 END,
                      ?5, NULLIF(?6, ''))
              ON CONFLICT (event_id) DO NOTHING"""  # the day is a date object: a safe literal
    with closing(conn.connection.cursor()) as cur:
        try:
            cur.executemany(sql, reader)
        except sqlite3.IntegrityError as exc:
            what = f"event_date is not {day}, the file's day"
            raise _bad_row(path, reader.line_num + 1, what) from exc
        except (sqlite3.ProgrammingError, csv.Error, UnicodeDecodeError, *UNREADABLE) as exc:
            raise _bad_row(path, reader.line_num + 1, str(exc).rstrip(".")) from exc
        inserted = cur.rowcount
    bad = conn.execute(_SQLITE_BAD_ROW, {"day": day.isoformat()}).first()
    if bad is not None:
        field, value = next(
            (f, v) for f, v, ok in zip(_CHECKED, bad[:4], bad[4:], strict=True) if not ok
        )
        line = backup_line_of(path, bad[0])
        raise _bad_row(path, line, f"{field} is {value!r}, not {_CHECKED[field]}")
    return inserted, reader.line_num


def _bad_row(path: str, line: int | None, what: str) -> BackupFileError:
    where = f"{path} line {line}" if line else path
    return BackupFileError(
        f"{where}: {what}; the fields are {','.join(EVENT_COLUMNS)}. Fix or restore the file "
        "from another copy, then run the restore again (restored days are kept)"
    )


_CHECKED = {
    "event_id": "an integer",
    "user_id": "an integer or empty",
    "session_id": "an integer",
    "occurred_at": "a timestamp (YYYY-MM-DD HH:MM:SS)",
}
_SQLITE_BAD_ROW = text("""
    SELECT event_id, user_id, session_id, occurred_at,
           typeof(event_id) = 'integer', typeof(user_id) IN ('integer', 'null'),
           typeof(session_id) = 'integer', datetime(occurred_at) IS NOT NULL
    FROM events
    WHERE event_date = :day
      AND NOT (typeof(event_id) = 'integer' AND typeof(user_id) IN ('integer', 'null')
               AND typeof(session_id) = 'integer' AND datetime(occurred_at) IS NOT NULL)
    LIMIT 1""")
_PG_STAGE = text("""
    CREATE TEMPORARY TABLE event_restore_stage (
        event_id BIGINT, user_id BIGINT, session_id BIGINT, event_date DATE,
        occurred_at TIMESTAMP, event_type VARCHAR(16)) ON COMMIT DROP""")
_PG_DAY_HAS_ROWS = text("SELECT 1 FROM events WHERE event_date = :day LIMIT 1")
_PG_OTHER_DAY = text("""SELECT event_id FROM event_restore_stage
                        WHERE event_date <> :day OR event_date IS NULL LIMIT 1""")
_PG_INSERT = text(f"""
    INSERT INTO events ({_COLS}) SELECT {_COLS} FROM event_restore_stage
    ON CONFLICT (event_id) DO NOTHING""")


class _NotOnlyNewRows(Exception):
    """The direct COPY met a key already present or a row of another day."""


def _postgres_day(conn: Connection, day: date, root: str) -> tuple[int, int]:
    """COPY a day with no rows yet straight into `events`; otherwise go through the stage.

    The direct COPY runs in a savepoint and is undone if it meets a key already present
    (stored under another day) or a row of another day; the staged path then inserts only
    the missing keys and names the offending row.
    """
    if conn.execute(_PG_DAY_HAS_ROWS, {"day": day}).first() is None:
        try:
            with conn.begin_nested(), open_event_backup(day, root) as (path, header, stream):
                read, copied = _copy(conn, "events", path, header, stream, where=day)
                return copied, read
        except (psycopg.errors.UniqueViolation, _NotOnlyNewRows):
            pass
    conn.execute(_PG_STAGE)  # dropped when the day's transaction ends
    with open_event_backup(day, root) as (path, header, stream):
        read, _ = _copy(conn, "event_restore_stage", path, header, stream)
    other = conn.execute(_PG_OTHER_DAY, {"day": day}).first()
    if other is not None:
        line = backup_line_of(path, other[0])
        raise _bad_row(path, line, f"event_date is not {day}, the file's day")
    return conn.execute(_PG_INSERT).rowcount, read


def _copy(
    conn: Connection,
    table: str,
    path: str,
    header: bytes,
    stream: IO[bytes],
    where: date | None = None,
) -> tuple[int, int]:
    """COPY the file into `table` (header included, so COPY's line numbers are the file's).

    With `where`, only rows of that day are copied and `_NotOnlyNewRows` says some were not.
    """
    only = f" WHERE event_date = '{where.isoformat()}'" if where else ""  # a date: safe literal
    sql = f"COPY {table} ({_COLS}) FROM STDIN WITH (FORMAT csv, HEADER true){only}"
    lines = 0
    with closing(conn.connection.cursor()) as cur:
        try:
            with cur.copy(sql) as copy:
                copy.write(header)
                while block := stream.read(_BLOCK):
                    lines += block.count(b"\n")
                    copy.write(block)
        except psycopg.errors.DataError as exc:
            raise _bad_row(path, None, f"{exc.diag.message_primary} ({exc.diag.context})") from exc
        except UNREADABLE as exc:
            raise _bad_row(path, None, f"not a readable gzip file ({exc})") from exc
        copied = cur.rowcount
    if where and copied != lines:
        raise _NotOnlyNewRows
    return lines, copied
