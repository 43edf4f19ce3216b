"""Second copies are evidence, not truth: every row of a backup or log file checked first.

An event backup (gzip CSV) or an activity log (gzip JSON lines) is parsed as a stream and
each row validated (field count, types, enumerations, the date inside the file's day, a
final line that ends) before a restore writes anything of its day. A damaged file stops with
`DamagedCopyError`: the file, the line, the day and the next step, never a bare `EOFError`,
`JSONDecodeError` or `UnicodeDecodeError`. Parsing is per row by nature; what happens to the
valid rows afterwards is set-based SQL (`warehouse.event_restore`, `warehouse.user_restore`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import IO, Any

import fsspec

from warehouse.logs_storage import EVENT_COLUMNS, BackupFileError, day_path
from warehouse.scales import EVENT_TYPES, REGIONS

UNREADABLE = (OSError, EOFError, zlib.error)
"""What reading a damaged gzip file raises (truncated, not gzip, corrupt block)."""
ACTIVITY_TYPES = frozenset({"registration", "cancellation"})
REGION_CODES = frozenset(code for code, _ in REGIONS)
_TYPES = frozenset({"", *EVENT_TYPES})
_USUAL_ROW = re.compile(
    r"(-?[0-9]+),(-?[0-9]*),(-?[0-9]+),([0-9-]{10}),([0-9-]{10} [0-9:.]+),([a-z_]*)", re.ASCII
)
"""An event backup row as the backup writer writes it (the fast path of validation)."""
_BLOCK = 1 << 16
EventRow = tuple[int, int | None, int, date, datetime, str | None]
ActivityRow = tuple[int, str, datetime, str | None]
"""(user_id, type, ts, region) of one activity-log line."""


class DamagedCopyError(BackupFileError):
    """A second copy that cannot be trusted: unreadable, cut short or holding a bad row.

    Terminal: the same file fails the same way. The message names the file, the line, the
    day and what to do; `retry` is the command to run once a good copy is back.
    """

    def __init__(self, path: str, line: int | None, day: date, what: str, retry: str = "") -> None:
        self.path, self.line, self.day, self.what, self.retry = path, line, day, what, retry
        where = f"{path} line {line}" if line else path
        then = f"`{retry}`" if retry else "the restore again"
        super().__init__(
            f"{where} (day {day}): {what}; nothing of {day} was inserted. "
            f"Next: restore a good copy of {path}, then run {then}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.path, self.line, self.day, self.what, self.retry)

    def with_retry(self, command: str) -> DamagedCopyError:
        """The same error naming `command` as the step after restoring the file."""
        return DamagedCopyError(self.path, self.line, self.day, self.what, command)


@contextmanager
def _text_lines(path: str, day: date) -> Iterator[Iterator[tuple[int, str]]]:
    """(line number, line) of a gzip text file; damage raised as `DamagedCopyError`.

    Every line must end with a newline: a last line without one is text cut mid-row.
    """
    fs, fpath = fsspec.core.url_to_fs(path)
    with fs.open(fpath, "rb") as raw, gzip.GzipFile(fileobj=raw) as unzipped:
        yield _checked_lines(path, day, io.BufferedReader(unzipped, _BLOCK))


def _checked_lines(path: str, day: date, stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    number = 0
    try:
        for number, raw in enumerate(stream, start=1):
            if not raw.endswith(b"\n"):
                raise DamagedCopyError(path, number, day, "the text stops mid-row")
            try:
                yield number, raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                what = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
                raise DamagedCopyError(path, number, day, what) from exc
    except UNREADABLE as exc:
        what = f"not a complete gzip file ({exc or type(exc).__name__})"
        raise DamagedCopyError(path, number + 1, day, what) from exc


def event_rows(root: str, day: date) -> Iterator[EventRow]:
    """The validated rows of `day`'s event backup under `root`, streamed in file order.

    A row of the usual shape is checked by one pattern and converted at once; any other row
    takes the field-by-field path, which names what is wrong with it.
    """
    path = day_path(root, day, ".csv.gz")
    header, today = ",".join(EVENT_COLUMNS), day.isoformat()
    with _text_lines(path, day) as lines:
        for number, line in lines:
            if number == 1:
                if line != header:
                    raise DamagedCopyError(path, 1, day, f"header is {line!r}, expected {header!r}")
                continue
            usual = _USUAL_ROW.fullmatch(line)
            if usual and usual[4] == today and usual[5].startswith(today) and usual[6] in _TYPES:
                moment = _time_or_none(usual[5])  # None: not a real time; the slow path says so
                if moment is not None:
                    yield (int(usual[1]), int(usual[2]) if usual[2] else None, int(usual[3]),
                           day, moment, usual[6] or None)  # fmt: skip
                    continue
            fields = next(csv.reader((line,))) if '"' in line else line.split(",")
            yield _event_row(fields, path, number, day)


def _event_row(fields: list[str], path: str, line: int, day: date) -> EventRow:
    if len(fields) != len(EVENT_COLUMNS):
        what = f"{len(fields)} fields, expected {len(EVENT_COLUMNS)} ({','.join(EVENT_COLUMNS)})"
        raise DamagedCopyError(path, line, day, what)
    event_id, user_id, session_id, event_date, occurred_at, event_type = fields
    if event_date != day.isoformat():
        raise DamagedCopyError(path, line, day, f"event_date is {event_date!r}, not {day}")
    if event_type and event_type not in EVENT_TYPES:
        known = ", ".join(EVENT_TYPES)
        raise DamagedCopyError(path, line, day, f"event_type {event_type!r} is not one of {known}")
    return (
        _integer(event_id, "event_id", path, line, day),
        _integer(user_id, "user_id", path, line, day) if user_id else None,
        _integer(session_id, "session_id", path, line, day),
        day,
        _moment(occurred_at, "occurred_at", path, line, day),
        event_type or None,
    )


def activity_rows(root: str, day: date) -> Iterator[ActivityRow]:
    """The validated lines of `day`'s activity log under `root`, streamed in file order."""
    path = day_path(root, day, ".jsonl.gz")
    with _text_lines(path, day) as lines:
        for number, line in lines:
            if line:
                yield _activity_row(line, path, number, day)


def _activity_row(line: str, path: str, number: int, day: date) -> ActivityRow:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DamagedCopyError(path, number, day, f"not a JSON object ({exc.msg})") from exc
    if not isinstance(record, dict) or set(record) != {"ts", "user_id", "type", "region"}:
        what = "expected an object with exactly ts, user_id, type, region"
        raise DamagedCopyError(path, number, day, what)
    user_id, kind, region = record["user_id"], record["type"], record["region"]
    if type(user_id) is not int:
        raise DamagedCopyError(path, number, day, f"user_id {user_id!r} is not an integer")
    if kind not in ACTIVITY_TYPES:
        raise DamagedCopyError(path, number, day, f"type {kind!r} is not one of {_known()}")
    if region is not None and region not in REGION_CODES:
        codes = ", ".join(sorted(REGION_CODES))
        raise DamagedCopyError(path, number, day, f"region {region!r} is not one of {codes}")
    return user_id, kind, _moment(str(record["ts"]), "ts", path, number, day), region


def read_activity_log(day: date, root: str) -> list[ActivityRow] | None:
    """The validated lines of one day's activity log under `root`; None when it has none."""
    if not copy_exists(day_path(root, day, ".jsonl.gz")):
        return None
    return list(activity_rows(root, day))


def count_activity_log(day: date, root: str, kind: str) -> int | None:
    """Valid lines of type `kind` (registration, cancellation) in the day's log; None if none."""
    lines = read_activity_log(day, root)
    return None if lines is None else sum(1 for line in lines if line[1] == kind)


def count_event_backup(day: date, root: str) -> int | None:
    """Valid rows in the day's event backup under `root`; None when it has no file."""
    if not copy_exists(day_path(root, day, ".csv.gz")):
        return None
    return sum(1 for _ in event_rows(root, day))


def copy_exists(path: str) -> bool:
    """Whether a second-copy file exists at `path` (an fsspec URL or a local path)."""
    fs, fpath = fsspec.core.url_to_fs(path)
    return bool(fs.exists(fpath))


def _known() -> str:
    return ", ".join(sorted(ACTIVITY_TYPES))


def _integer(value: str, field: str, path: str, line: int, day: date) -> int:
    if not value.lstrip("-").isdigit() or not value.isascii():
        raise DamagedCopyError(path, line, day, f"{field} {value!r} is not an integer")
    return int(value)


def _time_or_none(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _moment(value: str, field: str, path: str, line: int, day: date) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        what = f"{field} {value!r} is not a timestamp (YYYY-MM-DD HH:MM:SS)"
        raise DamagedCopyError(path, line, day, what) from None
    if moment.date() != day:
        raise DamagedCopyError(path, line, day, f"{field} {value} is not inside {day}")
    return moment
