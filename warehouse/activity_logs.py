"""Staging the activity-log files in the warehouse, where checks and backfills read them.

The files are the history of record for registrations and cancellations. The staged copy
(`activity_log_events`) belongs to this loader: loading a day replaces that day's staged
lines with the file's, and touches nothing else. Lines are validated as they are read
(`warehouse.activity_log_rows`): a damaged log stages nothing and names its file and line.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, delete, insert

from warehouse.activity_log_rows import read_activity_log
from warehouse.tables import activity_log_events


def load_activity_logs(conn: Connection, days: list[date], root: str) -> int:
    """Replace the staged log lines of `days` with the files under `root`; returns lines."""
    conn.execute(delete(activity_log_events).where(activity_log_events.c.day.in_(days)))
    rows = [
        {"day": d, "user_id": user_id, "event_type": kind, "region_code": region}
        for d in days
        for user_id, kind, _ts, region in (read_activity_log(d, root) or [])
    ]
    if rows:
        conn.execute(insert(activity_log_events), rows)
    return len(rows)
