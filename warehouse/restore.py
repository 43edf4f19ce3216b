"""Restoring a source's missing rows from its second copy: events from backup, users from logs.

Late or lost rows are put back into the source-of-record table the transform reads, so the
re-run that follows computes the partition from complete data (and the evidence can say
which step's rows are in it). Both restores only add rows whose primary key is absent
(`ON CONFLICT DO NOTHING`): a row that reached the source after its copy was written is
never deleted or overwritten, and a second run adds nothing. Work is split into days, one
transaction each (`warehouse.fill`), and files are streamed, so memory holds one batch.

Rows rebuilt from the activity logs carry what the logs know (user, day, time, region); the
source's other required fields are marked as restored (`channel`, `reason`: `activity_log`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from warehouse.db import Platform
from warehouse.fill import FillResult, Progress, fill_by_day
from warehouse.logs_storage import (
    EVENT_COLUMNS,
    event_backup_exists,
    iter_event_backup,
    read_activity_log,
)
from warehouse.schema import DATE_COLUMNS, events, registrations, subscription_cancellations

RESTORED_MARK = "activity_log"
"""Value of the fields the activity logs do not carry, in rows restored from them."""


def restore_events_from_backup(
    engine: Engine | Platform,
    days: list[date],
    *,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> FillResult:
    """Add the events of `days` that the backup holds and the event stream lacks (by event_id).

    Every requested day must have a backup file (checked before anything is written).
    """
    platform = Platform.of(engine)
    root = platform.config.event_backup()
    absent = [d.isoformat() for d in sorted(set(days)) if not event_backup_exists(d, root)]
    if absent:
        raise FileNotFoundError(f"no event backup for {', '.join(absent)} under {root}")

    def fill_day(conn: Connection, day: date) -> tuple[int, int]:
        before = _count(conn, events, day)
        read = 0
        for batch in iter_event_backup(day, root) or []:
            rows = [tuple(v if v != "" else None for v in row) for row in batch]
            read += len(rows)
            _insert_events(conn, rows)
        return _count(conn, events, day) - before, read

    return fill_by_day(
        platform.source("events"), days, fill_day, concurrency=concurrency, progress=progress
    )


_COLS = ", ".join(EVENT_COLUMNS)
_SQLITE_EVENTS = (
    f"INSERT INTO events ({_COLS}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))}) "
    "ON CONFLICT (event_id) DO NOTHING"
)


def _insert_events(conn: Connection, rows: list[tuple]) -> None:
    """Insert a batch, skipping event ids already present: executemany, or COPY + INSERT."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_SQLITE_EVENTS, rows)  # values as the backup stored them
        return
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS event_fill_stage "
        "(LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    conn.exec_driver_sql("TRUNCATE event_fill_stage")
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor as cur, cur.copy(f"COPY event_fill_stage ({_COLS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.exec_driver_sql(
        f"INSERT INTO events ({_COLS}) SELECT {_COLS} FROM event_fill_stage "
        "ON CONFLICT (event_id) DO NOTHING"
    )


def restore_users_from_logs(
    engine: Engine | Platform,
    days: list[date],
    *,
    concurrency: int = 4,
    progress: Progress | None = None,
) -> FillResult:
    """Add the registrations and cancellations of `days` that the activity logs hold and the
    registration DB lacks (by user_id). Every requested day must have a log file."""
    platform = Platform.of(engine)
    root = platform.config.activity_logs()
    logs = {d: read_activity_log(d, root) for d in sorted(set(days))}
    absent = [d.isoformat() for d, lines in logs.items() if lines is None]
    if absent:
        raise FileNotFoundError(f"no activity log for {', '.join(absent)} under {root}")

    def fill_day(conn: Connection, day: date) -> tuple[int, int]:
        lines = logs[day] or []
        regs = [
            {"user_id": int(x["user_id"]), "registered_on": day, "registered_at": _ts(x["ts"]),
             "region_code": x["region"], "channel": RESTORED_MARK}
            for x in lines if x["type"] == "registration"
        ]  # fmt: skip
        cancels = [
            {"user_id": int(x["user_id"]), "cancelled_on": day, "cancelled_at": _ts(x["ts"]),
             "reason": RESTORED_MARK}
            for x in lines if x["type"] == "cancellation"
        ]  # fmt: skip
        inserted = 0
        for table, rows in ((registrations, regs), (subscription_cancellations, cancels)):
            if rows:
                before = _count(conn, table, day)
                conn.execute(_insert_missing(conn, table), rows)
                inserted += _count(conn, table, day) - before
        return inserted, len(lines)

    return fill_by_day(
        platform.source("registrations"), days, fill_day, concurrency=concurrency,
        progress=progress,
    )  # fmt: skip


def _insert_missing(conn: Connection, table: Table) -> Any:
    """An INSERT of `table` that skips rows whose primary key exists (either dialect)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = [c.name for c in table.primary_key.columns]
    return dialect.insert(table).on_conflict_do_nothing(index_elements=key)


def _count(conn: Connection, table: Table, day: date) -> int:
    col = table.c[DATE_COLUMNS[table.name]]
    return int(conn.execute(select(func.count()).select_from(table).where(col == day)).scalar())


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)
