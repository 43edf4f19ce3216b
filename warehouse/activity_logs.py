"""Loading the activity-log files into the warehouse, and rebuilding growth days from them.

The files are the history of record for registrations and cancellations: the growth check
compares against them and `backfill_from_activity_logs` rebuilds missing warehouse days.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Date, Engine, String, bindparam, delete, insert, text

from warehouse.calendar import partition_of
from warehouse.logs_storage import read_activity_log
from warehouse.sql import bound
from warehouse.tables import activity_log_events


def load_activity_logs(conn: Connection, days: list[date], root: str | None = None) -> int:
    """Replace the staged log lines of `days` with the files' content; returns lines loaded."""
    conn.execute(delete(activity_log_events).where(activity_log_events.c.day.in_(days)))
    rows = [
        {"day": d, "user_id": r["user_id"], "event_type": r["type"], "region_code": r["region"]}
        for d in days
        for r in (read_activity_log(d, root) or [])
    ]
    if rows:
        conn.execute(insert(activity_log_events), rows)
    return len(rows)


def backfill_from_activity_logs(
    engine: Engine, days: list[date], root: str | None = None
) -> dict[str, int]:
    """Rebuild `growth_daily` for `days` from the activity logs, then the weeks they touch.

    One transaction: the staged lines, the rebuilt days and the re-aggregated weekly rows
    become visible together.
    """
    from warehouse.pipelines import registry

    weekly = registry["aggregate_growth"].steps[1]
    weeks = {partition_of("week", d) for d in days}
    with engine.begin() as conn:
        lines = load_activity_logs(conn, days, root)
        for week in weeks:
            week_days = [d for d in days if week.start <= d <= week.end]
            params = {"p": week.key, "start": week.start, "end": week.end}
            conn.execute(
                text(
                    "DELETE FROM growth_daily WHERE partition_key = :p AND day IN :days"
                ).bindparams(bindparam("days", expanding=True, type_=Date)),
                {"p": week.key, "days": week_days},
            )
            conn.execute(
                text("""INSERT INTO growth_daily (partition_key, period_start, period_end, day,
                            region_code, registrations, cancellations)
                     SELECT :p, :start, :end, day, region_code,
                            SUM(CASE WHEN event_type = 'registration' THEN 1 ELSE 0 END),
                            SUM(CASE WHEN event_type = 'cancellation' THEN 1 ELSE 0 END)
                     FROM activity_log_events WHERE day IN :days
                     GROUP BY day, region_code""").bindparams(
                    bindparam("days", expanding=True, type_=Date),
                    bindparam("start", type_=Date),
                    bindparam("end", type_=Date),
                    bindparam("p", type_=String),
                ),
                {**params, "days": week_days},
            )
            conn.execute(text("DELETE FROM growth_weekly WHERE partition_key = :p"), params)
            conn.execute(bound(weekly.insert_sql), params)
    return {"days": len(days), "weeks": len(weeks), "log_lines": lines}
