"""Second copies are evidence, not truth: the shared half of checking a backup or log file.

An event backup (gzip CSV, `warehouse.backup_rows`) or an activity log (gzip JSON lines,
`warehouse.activity_log_rows`) is parsed as a stream and each row validated (field count,
types, enumerations, the date inside the file's day, a final line that ends) before a
restore writes anything of its day. A damaged file stops with `DamagedCopyError`: the file,
the line, the day and the next step, never a bare `EOFError`, `JSONDecodeError` or
`UnicodeDecodeError`. Parsing is per row by nature; what happens to the valid rows afterwards
is set-based SQL (`warehouse.event_restore`, `warehouse.user_restore`).
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import IO, Any

import fsspec

from warehouse.logs_storage import BackupFileError

UNREADABLE = (OSError, EOFError, zlib.error)
"""What reading a damaged gzip file raises (truncated, not gzip, corrupt block)."""
_BLOCK = 1 << 16


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
def text_lines(path: str, day: date) -> Iterator[Iterator[tuple[int, str]]]:
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


def copy_exists(path: str) -> bool:
    """Whether a second-copy file exists at `path` (an fsspec URL or a local path)."""
    fs, fpath = fsspec.core.url_to_fs(path)
    return bool(fs.exists(fpath))


def integer(value: str, field: str, path: str, line: int, day: date) -> int:
    """An ASCII integer field, or the error naming the field's line."""
    if not value.lstrip("-").isdigit() or not value.isascii():
        raise DamagedCopyError(path, line, day, f"{field} {value!r} is not an integer")
    return int(value)


def time_or_none(value: str) -> datetime | None:
    """An ISO timestamp, or None (the caller's slow path says what is wrong)."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def moment_in_day(value: str, field: str, path: str, line: int, day: date) -> datetime:
    """A timestamp inside the file's day, or the error naming the field's line."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        what = f"{field} {value!r} is not a timestamp (YYYY-MM-DD HH:MM:SS)"
        raise DamagedCopyError(path, line, day, what) from None
    if moment.date() != day:
        raise DamagedCopyError(path, line, day, f"{field} {value} is not inside {day}")
    return moment
