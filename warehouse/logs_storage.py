"""Files in storage: daily activity logs (gzip JSON lines) and daily event-stream backups.

Locations are fsspec URLs (a local folder by default; `s3://...` and friends work the same),
one file per day: `<root>/YYYY/MM/DD.jsonl.gz` for logs, `<root>/YYYY/MM/DD.csv.gz` for events.
Files are written in bulk per day; an event backup is read as a stream (`open_event_backup`),
so restoring a day never holds its file in memory. Aggregation happens in SQL after loading.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import IO

import fsspec
from sqlalchemy import Engine, text

from foundation.errors import RecoveryError, TerminalError

EVENT_COLUMNS = ("event_id", "user_id", "session_id", "event_date", "occurred_at", "event_type")
UNREADABLE = (OSError, EOFError, zlib.error)
"""What reading a damaged gzip file raises (truncated, not gzip, corrupt block)."""


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


def _by_day(rows: Iterator) -> Iterator[tuple[date, list]]:
    current, batch = None, []
    for row in rows:
        if row[0] != current and batch:
            yield current, batch
            batch = []
        current = row[0]
        batch.append(row)
    if batch:
        yield current, batch


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


def read_activity_log(day: date, root: str) -> list[dict] | None:
    """The parsed lines of one day's activity log under `root`, or None when it is missing."""
    raw = _read(day_path(root, day, ".jsonl.gz"))
    return None if raw is None else [json.loads(line) for line in raw.splitlines() if line]


def count_activity_log(day: date, root: str, kind: str) -> int | None:
    """Lines of type `kind` (registration, cancellation) in the day's log; None if no file."""
    lines = read_activity_log(day, root)
    return None if lines is None else sum(1 for line in lines if line["type"] == kind)


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


@contextmanager
def open_event_backup(day: date, root: str) -> Iterator[tuple[str, bytes, IO[bytes]]]:
    """Stream one day's backup: its path, its checked header line and the CSV bytes after it.

    The bytes are decompressed as they are read, so a file of any size takes constant
    memory. A header other than `EVENT_COLUMNS` is refused before any row is read.
    """
    path = day_path(root, day, ".csv.gz")
    fs, fpath = fsspec.core.url_to_fs(path)
    with fs.open(fpath, "rb") as raw, gzip.GzipFile(fileobj=raw) as stream:
        try:
            header = stream.readline()
        except UNREADABLE as exc:
            raise BackupFileError(f"{path}: not a readable gzip file ({exc})") from exc
        found = tuple(header.decode(errors="replace").strip().split(","))
        if found != EVENT_COLUMNS:
            raise BackupFileError(
                f"{path} line 1: header is {','.join(found)!r}, expected "
                f"{','.join(EVENT_COLUMNS)!r}; restore the file from another copy"
            )
        yield path, header, stream


def backup_line_of(path: str, key: object) -> int | None:
    """The line of backup file `path` whose first field is `key` (to point at a bad row)."""
    fs, fpath = fsspec.core.url_to_fs(path)
    with fs.open(fpath, "rb") as raw, gzip.open(raw, "rt", newline="") as text_stream:
        reader = csv.reader(text_stream)
        return next((reader.line_num for row in reader if row[:1] == [str(key)]), None)


def read_event_backup(day: date, root: str) -> list[dict] | None:
    """One day of backed-up events under `root` as column dicts, or None when none exists.

    The whole file in memory: for inspecting a day; restores stream it (`open_event_backup`).
    """
    raw = _read(day_path(root, day, ".csv.gz"))
    return None if raw is None else list(csv.DictReader(io.StringIO(raw.decode())))


def count_event_backup(day: date, root: str) -> int | None:
    """Rows in the day's event backup under `root`, or None when it has no file."""
    batches = iter_event_backup(day, root)
    return None if batches is None else sum(len(b) for b in batches)


def iter_event_backup(day: date, root: str, batch: int = 50_000) -> Iterator[list[tuple]] | None:
    """The day's backed-up events as batches of value tuples (`EVENT_COLUMNS` order), streamed.

    The file is decompressed as it is read, so memory holds one batch whatever the day's size.
    None when the day has no backup file.
    """
    fs, fpath = fsspec.core.url_to_fs(day_path(root, day, ".csv.gz"))
    if not fs.exists(fpath):
        return None
    return _csv_batches(fs, fpath, batch)


def _csv_batches(fs: fsspec.AbstractFileSystem, fpath: str, batch: int) -> Iterator[list[tuple]]:
    with fs.open(fpath, "rb") as raw, gzip.open(raw, "rt", newline="") as text_in:
        reader = csv.reader(text_in)
        next(reader, None)  # header
        rows: list[tuple] = []
        for row in reader:
            rows.append(tuple(row))
            if len(rows) >= batch:
                yield rows
                rows = []
        if rows:
            yield rows


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
