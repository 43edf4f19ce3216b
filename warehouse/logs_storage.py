"""Files in storage: daily activity logs (gzip JSON lines) and daily event-stream backups.

Locations are fsspec URLs (a local folder by default; `s3://...` and friends work the same),
one file per day: `<root>/YYYY/MM/DD.jsonl.gz` for logs, `<root>/YYYY/MM/DD.csv.gz` for events.
Files are written in bulk per day. Restores and checks read them through
`warehouse.second_copies`, which validates every row; aggregation happens in SQL after loading.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any

import fsspec
from sqlalchemy import Engine, text

from foundation.errors import RecoveryError, TerminalError

EVENT_COLUMNS = ("event_id", "user_id", "session_id", "event_date", "occurred_at", "event_type")


class BackupFileError(RecoveryError, TerminalError, ValueError):
    """A backup file that cannot be used as written: unreadable, wrong header or a bad row."""


def day_path(root: str, day: date, suffix: str) -> str:
    """The file of `day` under storage root `root`."""
    return f"{root.rstrip('/')}/{day:%Y/%m/%d}{suffix}"


def _write(path: str, payload: bytes) -> None:
    fs, fpath = fsspec.core.url_to_fs(path)
    fs.makedirs(fpath.rsplit("/", 1)[0], exist_ok=True)
    with fs.open(fpath, "wb") as fh:
        fh.write(gzip.compress(payload, compresslevel=1))


def _read(path: str) -> bytes | None:
    fs, fpath = fsspec.core.url_to_fs(path)
    if not fs.exists(fpath):
        return None
    with fs.open(fpath, "rb") as fh:
        return gzip.decompress(fh.read())


def _by_day(rows: Iterator[Any]) -> Iterator[tuple[date, list[Any]]]:
    for day, batch in groupby(rows, key=itemgetter(0)):
        yield day, list(batch)


def write_activity_logs(registrations: Engine, root: str) -> int:
    """Export registrations and cancellations as the activity-log history; returns files."""
    sql = text("""
        SELECT day, user_id, event_type, region_code, ts FROM (
          SELECT registered_on AS day, user_id, 'registration' AS event_type, region_code,
                 registered_at AS ts FROM registrations
          UNION ALL
          SELECT c.cancelled_on, c.user_id, 'cancellation', r.region_code, c.cancelled_at
          FROM subscription_cancellations c JOIN registrations r ON r.user_id = c.user_id) a
        ORDER BY day, ts, user_id""")
    files = 0
    with registrations.connect() as conn:
        result = conn.execution_options(yield_per=50_000).execute(sql)
        for day, rows in _by_day(result):
            lines = "".join(
                json.dumps({"ts": str(r[4]), "user_id": r[1], "type": r[2], "region": r[3]}) + "\n"
                for r in rows
            )
            _write(day_path(root, _as_date(day), ".jsonl.gz"), lines.encode())
            files += 1
    return files


def write_event_backup(events: Engine, root: str) -> int:
    """Back up the event stream as one gzip CSV per day under `root`; returns the files."""
    cols = ", ".join(EVENT_COLUMNS)
    files = 0
    with events.connect() as conn:
        result = conn.execution_options(yield_per=100_000).execute(
            text(f"SELECT event_date, {cols} FROM events ORDER BY event_date, event_id")
        )
        for day, rows in _by_day(result):
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(EVENT_COLUMNS)
            writer.writerows(r[1:] for r in rows)
            _write(day_path(root, _as_date(day), ".csv.gz"), buf.getvalue().encode())
            files += 1
    return files


def event_backup_exists(day: date, root: str) -> bool:
    """Whether `day` has a backup file under `root`."""
    fs, fpath = fsspec.core.url_to_fs(day_path(root, day, ".csv.gz"))
    return bool(fs.exists(fpath))


def read_event_backup(day: date, root: str) -> list[dict] | None:
    """One day of backed-up events under `root` as column dicts, or None when none exists.

    The whole file in memory, unchecked: for inspecting a day; restores stream and validate
    it (`warehouse.second_copies.event_rows`).
    """
    raw = _read(day_path(root, day, ".csv.gz"))
    return None if raw is None else list(csv.DictReader(io.StringIO(raw.decode())))


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
