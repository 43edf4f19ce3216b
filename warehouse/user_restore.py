"""Restoring the registration DB's missing rows from the historical activity logs.

Late or lost registrations and cancellations are put back into the source-of-record tables
the growth transform reads, so the re-run that follows computes the partition from complete
data (and the evidence can say which step's rows are in it). A day's log is validated line
by line first (`warehouse.activity_log_rows`): a damaged log writes nothing of its day. The valid
lines are staged, then merged in SQL (`warehouse.provenance`): rows an earlier restore of the
day inserted are replaced, rows the source delivered itself are never deleted or
overwritten, and each inserted row is recorded with its file and load. Work goes through
`warehouse.fill.fill_by_day`, one transaction per day, as the event restore does
(`warehouse.event_restore`).

Rows rebuilt from the activity logs carry what the logs know (user, day, time, region); the
source's other required fields are marked as restored (`channel`, `reason`: `activity_log`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, DateTime, Engine, bindparam, text

from warehouse.activity_log_rows import activity_rows
from warehouse.db import Platform
from warehouse.fill import FillResult, Progress, fill_by_day
from warehouse.logs_storage import day_path
from warehouse.provenance import Load, Target, ensure_records, replace_restored
from warehouse.second_copies import copy_exists

RESTORED_MARK = "activity_log"
"""Value of the fields the activity logs do not carry, in rows restored from them."""

_STAGE = "user_restore_stage"
_CREATE = {
    "sqlite": f"""CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE}
                  (user_id BIGINT, kind VARCHAR(16), ts TIMESTAMP, region VARCHAR(8))""",
    "postgresql": f"""CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE}
                      (user_id BIGINT, kind VARCHAR(16), ts TIMESTAMP, region VARCHAR(8))
                      ON COMMIT DELETE ROWS""",
}
_TARGETS = (
    Target(
        "registrations",
        "user_id",
        f"(SELECT user_id FROM {_STAGE} WHERE kind = 'registration')",
        f"""INSERT INTO registrations (user_id, registered_on, registered_at, region_code, channel)
            SELECT user_id, :day, ts, region, '{RESTORED_MARK}' FROM {_STAGE}
            WHERE kind = 'registration' ON CONFLICT (user_id) DO NOTHING""",
        f"registered_on = :day AND channel = '{RESTORED_MARK}'",
    ),
    Target(
        "subscription_cancellations",
        "user_id",
        f"(SELECT user_id FROM {_STAGE} WHERE kind = 'cancellation')",
        f"""INSERT INTO subscription_cancellations (user_id, cancelled_on, cancelled_at, reason)
            SELECT user_id, :day, ts, '{RESTORED_MARK}' FROM {_STAGE}
            WHERE kind = 'cancellation' ON CONFLICT (user_id) DO NOTHING""",
        f"cancelled_on = :day AND reason = '{RESTORED_MARK}'",
    ),
)
"""The tables a log restores (a restored row keeps the mark, so a source's own row is never
mistaken for one)."""
_STAGE_INSERT = text(f"INSERT INTO {_STAGE} VALUES (:user_id, :kind, :ts, :region)").bindparams(
    bindparam("ts", type_=DateTime)
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
    wanted = sorted(set(days))
    absent = [d.isoformat() for d in wanted if not copy_exists(day_path(root, d, ".jsonl.gz"))]
    if absent:
        raise FileNotFoundError(f"no activity log for {', '.join(absent)} under {root}")
    source = platform.source("registrations")
    ensure_records(source)
    load = Load(root)

    def fill_day(conn: Connection, day: date) -> tuple[int, int]:
        conn.execute(text(_CREATE[conn.dialect.name]))
        conn.execute(text(f"DELETE FROM {_STAGE}"))
        lines = [
            {"user_id": user_id, "kind": kind, "ts": ts, "region": region}
            for user_id, kind, ts, region in activity_rows(root, day)
        ]
        if lines:
            conn.execute(_STAGE_INSERT, lines)
        at = load.of_file(day_path(root, day, ".jsonl.gz"))
        inserted = sum(replace_restored(conn, target, day, at) for target in _TARGETS)
        return inserted, len(lines)

    return fill_by_day(source, wanted, fill_day, concurrency=concurrency, progress=progress)
