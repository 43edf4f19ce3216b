"""The rows of an event backup file (gzip CSV), each validated as it is read.

A row of the usual shape is checked by one pattern and converted at once; any other row
takes the field-by-field path, which names what is wrong with it (`DamagedCopyError`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date, datetime

from warehouse.logs_storage import EVENT_COLUMNS, day_path
from warehouse.scales import EVENT_TYPES
from warehouse.second_copies import (
    DamagedCopyError,
    copy_exists,
    integer,
    moment_in_day,
    text_lines,
    time_or_none,
)

EventRow = tuple[int, int | None, int, date, datetime, str | None]
_TYPES = frozenset({"", *EVENT_TYPES})
_USUAL_ROW = re.compile(
    r"(-?[0-9]+),(-?[0-9]*),(-?[0-9]+),([0-9-]{10}),([0-9-]{10} [0-9:.]+),([a-z_]*)", re.ASCII
)
"""An event backup row as the backup writer writes it (the fast path of validation)."""


def event_rows(root: str, day: date) -> Iterator[EventRow]:
    """The validated rows of `day`'s event backup under `root`, streamed in file order.

    A row of the usual shape is checked by one pattern and converted at once; any other row
    takes the field-by-field path, which names what is wrong with it.
    """
    path = day_path(root, day, ".csv.gz")
    header, today = ",".join(EVENT_COLUMNS), day.isoformat()
    with text_lines(path, day) as lines:
        for number, line in lines:
            if number == 1:
                if line != header:
                    raise DamagedCopyError(path, 1, day, f"header is {line!r}, expected {header!r}")
                continue
            usual = _USUAL_ROW.fullmatch(line)
            if usual and usual[4] == today and usual[5].startswith(today) and usual[6] in _TYPES:
                moment = time_or_none(usual[5])  # None: not a real time; the slow path says so
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
        integer(event_id, "event_id", path, line, day),
        integer(user_id, "user_id", path, line, day) if user_id else None,
        integer(session_id, "session_id", path, line, day),
        day,
        moment_in_day(occurred_at, "occurred_at", path, line, day),
        event_type or None,
    )


def count_event_backup(day: date, root: str) -> int | None:
    """Valid rows in the day's event backup under `root`; None when it has no file."""
    if not copy_exists(day_path(root, day, ".csv.gz")):
        return None
    return sum(1 for _ in event_rows(root, day))
