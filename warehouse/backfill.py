"""Backfilling warehouse days that are missing: growth days from the activity logs.

Works one day at a time through `warehouse.fill.fill_by_day`, each day in its own
transaction, and inserts only rows whose key is absent (`INSERT ... SELECT ... WHERE NOT
EXISTS`): a row the warehouse already has is never deleted or overwritten, a crash loses at
most the day in flight, and a second run adds nothing. Restoring a source's missing rows
(late data) is `warehouse.user_restore` and `warehouse.event_restore`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Date, Engine, bindparam, text

from warehouse.activity_logs import load_activity_logs
from warehouse.calendar import partition_of
from warehouse.db import Platform
from warehouse.fill import FillResult, Progress, fill_by_day
from warehouse.partition_state import mark_changed
from warehouse.pipelines.growth import aggregate_growth
from warehouse.sql import bound, partition_params

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


def backfill_from_activity_logs(
    engine: Engine | Platform, days: list[date], *, progress: Progress | None = None
) -> FillResult:
    """Add the `growth_daily` rows of `days` missing from the warehouse, from the activity logs.

    Per day, in one transaction: stage the day's log file, insert the (day, region) rows the
    warehouse lacks, and roll the week up again from `growth_daily` (the weekly table is the
    transform's own aggregate of the daily rows, so it is recomputed, not patched). The
    week's partition is marked `unchecked`: its checks decide again.
    """
    platform = Platform.of(engine)
    root = platform.config.activity_logs()
    calendar = platform.config.fiscal_calendar

    def fill_day(conn: Connection, day: date) -> tuple[int, int]:
        week = partition_of("week", day, calendar)
        params = {**partition_params(week), "day": day}
        lines = load_activity_logs(conn, [day], root)
        inserted = conn.execute(_GROWTH_DAY, params).rowcount
        conn.execute(_DELETE_WEEK, params)
        conn.execute(_WEEK_ROLLUP, params)
        mark_changed(conn, aggregate_growth.name, week.key)
        return inserted, lines

    # one day at a time: days of one week roll the same week up
    return fill_by_day(platform.warehouse, days, fill_day, concurrency=1, progress=progress)
