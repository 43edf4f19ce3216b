"""The lines of an activity-log file (gzip JSON lines), each validated as it is read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime

from warehouse.logs_storage import day_path
from warehouse.scales import REGIONS
from warehouse.second_copies import DamagedCopyError, copy_exists, moment_in_day, text_lines

ACTIVITY_TYPES = frozenset({"registration", "cancellation"})
REGION_CODES = frozenset(code for code, _ in REGIONS)
ActivityRow = tuple[int, str, datetime, str | None]
"""(user_id, type, ts, region) of one activity-log line."""


def activity_rows(root: str, day: date) -> Iterator[ActivityRow]:
    """The validated lines of `day`'s activity log under `root`, streamed in file order."""
    path = day_path(root, day, ".jsonl.gz")
    with text_lines(path, day) as lines:
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
    return user_id, kind, moment_in_day(str(record["ts"]), "ts", path, number, day), region


def read_activity_log(day: date, root: str) -> list[ActivityRow] | None:
    """The validated lines of one day's activity log under `root`; None when it has none."""
    if not copy_exists(day_path(root, day, ".jsonl.gz")):
        return None
    return list(activity_rows(root, day))


def count_activity_log(day: date, root: str, kind: str) -> int | None:
    """Valid lines of type `kind` (registration, cancellation) in the day's log; None if none."""
    lines = read_activity_log(day, root)
    return None if lines is None else sum(1 for line in lines if line[1] == kind)


def _known() -> str:
    return ", ".join(sorted(ACTIVITY_TYPES))
