"""Restoring the registration DB's missing rows from the historical activity logs.

Late or lost registrations and cancellations are put back into the source-of-record tables
the growth transform reads, so the re-run that follows computes the partition from complete
data (and the evidence can say which step's rows are in it). Only rows whose primary key is
absent are added (`ON CONFLICT DO NOTHING`): a row that reached the source after its copy was
written is never deleted or overwritten, and a second run adds nothing. Work goes through
`warehouse.fill.fill_by_day`, one transaction per day, as the event restore does
(`warehouse.event_restore`).

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
from warehouse.logs_storage import read_activity_log
from warehouse.schema import DATE_COLUMNS, registrations, subscription_cancellations

RESTORED_MARK = "activity_log"
"""Value of the fields the activity logs do not carry, in rows restored from them."""


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
