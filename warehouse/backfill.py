"""Backfills that only add what is missing: growth days from the activity logs, events from backup.

Both work one day at a time, each day in its own transaction, and insert only rows whose key
is absent (`INSERT ... SELECT ... WHERE NOT EXISTS`): a row that reached the source or the
warehouse after the second copy was written is never deleted or overwritten, a crash loses at
most the day in flight, and a second run adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    insert,
    text,
)

from warehouse.activity_logs import load_activity_logs
from warehouse.calendar import partition_of
from warehouse.db import Platform
from warehouse.logs_storage import EVENT_COLUMNS, event_backup_exists, read_event_backup
from warehouse.partition_state import mark_changed
from warehouse.pipelines.growth import aggregate_growth
from warehouse.sql import bound, partition_params


@dataclass(frozen=True)
class FillResult:
    """What a backfill did: days handled, rows it inserted, lines or rows it read."""

    days: int
    rows_inserted: int
    rows_read: int


_GROWTH_DAY = bound("""
    INSERT INTO growth_daily (partition_key, period_start, period_end, day, region_code,
                              registrations, cancellations)
    SELECT :p, :start, :end, a.day, a.region_code,
           SUM(CASE WHEN a.event_type = 'registration' THEN 1 ELSE 0 END),
           SUM(CASE WHEN a.event_type = 'cancellation' THEN 1 ELSE 0 END)
    FROM activity_log_events a
    WHERE a.day = :day AND NOT EXISTS (
        SELECT 1 FROM growth_daily g
        WHERE g.partition_key = :p AND g.day = a.day
          AND (g.region_code = a.region_code OR (g.region_code IS NULL AND a.region_code IS NULL)))
    GROUP BY a.day, a.region_code""").bindparams(bindparam("day", type_=Date))
_WEEK_ROLLUP = bound(aggregate_growth.steps[1].insert_sql)
_DELETE_WEEK = text("DELETE FROM growth_weekly WHERE partition_key = :p")


def backfill_from_activity_logs(engine: Engine | Platform, days: list[date]) -> FillResult:
    """Add the `growth_daily` rows of `days` missing from the warehouse, from the activity logs.

    Per day, in one transaction: stage the day's log file, insert the (day, region) rows the
    warehouse lacks, and roll the week up again from `growth_daily` (the weekly table is the
    transform's own aggregate of the daily rows, so it is recomputed, not patched). The
    week's partition is marked `unchecked`: its checks decide again.
    """
    platform = Platform.of(engine)
    root = platform.config.activity_logs()
    calendar = platform.config.fiscal_calendar
    inserted = lines = 0
    for day in sorted(set(days)):
        week = partition_of("week", day, calendar)
        params = {**partition_params(week), "day": day}
        with platform.warehouse.begin() as conn:
            lines += load_activity_logs(conn, [day], root)
            inserted += conn.execute(_GROWTH_DAY, params).rowcount
            conn.execute(_DELETE_WEEK, params)
            conn.execute(_WEEK_ROLLUP, params)
            mark_changed(conn, aggregate_growth.name, week.key)
    return FillResult(len(set(days)), inserted, lines)


_stage_md = MetaData()
_stage = Table(
    "event_restore_stage", _stage_md,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger),
    Column("session_id", BigInteger, nullable=False),
    Column("event_date", Date, nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("event_type", String(16)),
    prefixes=["TEMPORARY"],
)  # fmt: skip
_COLS = ", ".join(EVENT_COLUMNS)
_RESTORE_DAY = bound(f"""
    INSERT INTO events ({_COLS})
    SELECT {", ".join(f"s.{c}" for c in EVENT_COLUMNS)} FROM event_restore_stage s
    WHERE s.event_date = :start
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = s.event_id)""")


def restore_events_from_backup(engine: Engine | Platform, days: list[date]) -> FillResult:
    """Add the events of `days` that the backup holds and the event stream lacks (by event_id).

    Every requested day must have a backup file (checked before anything is written). Each
    day's file is loaded into a temporary table and inserted in one transaction.
    """
    platform = Platform.of(engine)
    root = platform.config.event_backup()
    wanted = sorted(set(days))
    absent = [d.isoformat() for d in wanted if not event_backup_exists(d, root)]
    if absent:
        raise FileNotFoundError(f"no event backup for {', '.join(absent)} under {root}")
    inserted = read = 0
    with platform.source("events").connect() as conn:
        _stage.create(conn, checkfirst=True)
        conn.commit()
        try:
            for day in wanted:
                rows = _event_rows(read_event_backup(day, root) or [])
                read += len(rows)
                with conn.begin():
                    inserted += _restore_day(conn, day, rows)
        finally:
            _stage.drop(conn, checkfirst=True)
            conn.commit()
    return FillResult(len(wanted), inserted, read)


def _restore_day(conn: Connection, day: date, rows: list[dict]) -> int:
    conn.execute(delete(_stage))
    if not rows:
        return 0
    conn.execute(insert(_stage), rows)
    return conn.execute(_RESTORE_DAY, {"start": day}).rowcount


def _event_rows(batch: list[dict]) -> list[dict]:
    return [
        {
            "event_id": int(r["event_id"]),
            "user_id": int(r["user_id"]) if r["user_id"] else None,
            "session_id": int(r["session_id"]),
            "event_date": date.fromisoformat(r["event_date"]),
            "occurred_at": datetime.fromisoformat(r["occurred_at"]),
            "event_type": r["event_type"] or None,
        }
        for r in batch
    ]
