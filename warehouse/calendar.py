"""Partitions and the fiscal calendar: a partition is a string key with a date range.

Keys: `2026-W43` (ISO week), `2026-10-14` (day), `2026-10` (fiscal month), in ASCII digits
only (a Unicode digit class would also take `2026-W0٣` and write a second key for the same
partition) and with a year in MIN_YEAR..MAX_YEAR (`9999-12` is a typo or an attack, never
data). Fiscal months are calendar months by default; with the `445` calendar a fiscal year
starts on the Monday of ISO week 1 and its quarters have months of 4, 4 and 5 weeks (the 53rd
week joins month 12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from foundation.errors import RecoveryError, TerminalError

Grain = Literal["day", "week", "fiscal_month"]
FiscalCalendar = Literal["calendar", "445"]

MIN_YEAR, MAX_YEAR = 1970, 2100
_DAY = re.compile(r"([0-9]{4})-[0-9]{2}-[0-9]{2}", re.ASCII)
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})", re.ASCII)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
_445_WEEKS = (4, 4, 5) * 4


@dataclass(frozen=True)
class Partition:
    """One partition: its key, grain, inclusive date range and the calendar it was read with."""

    key: str
    grain: Grain
    start: date
    end: date
    calendar: FiscalCalendar = "calendar"

    @property
    def days(self) -> list[date]:
        """Every day of the partition, in order."""
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]

    def previous(self) -> Partition:
        """The partition just before this one (same grain, same calendar)."""
        return partition_of(self.grain, self.start - timedelta(1), self.calendar)


class PartitionError(RecoveryError, TerminalError, ValueError):
    """A partition key that does not fit the pipeline's grain."""


def parse_partition(grain: Grain, key: str, calendar: FiscalCalendar = "calendar") -> Partition:
    """The partition called `key` at `grain`; a malformed key raises `PartitionError`."""
    pattern = {"day": _DAY, "week": _WEEK, "fiscal_month": _MONTH}[grain]
    m = pattern.fullmatch(key)
    try:
        if m and not MIN_YEAR <= int(m[1]) <= MAX_YEAR:
            raise ValueError(f"year {m[1]} is outside {MIN_YEAR}..{MAX_YEAR}")
        if grain == "day" and m:
            day = date.fromisoformat(key)
            return Partition(key, grain, day, day, calendar)
        if grain == "week" and m:
            start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Partition(key, grain, start, start + timedelta(6), calendar)
        if grain == "fiscal_month" and m:
            start, end = _fiscal_month_range(int(m[1]), int(m[2]), calendar)
            return Partition(key, grain, start, end, calendar)
    except ValueError as exc:
        raise PartitionError(f"bad {grain} partition {key!r}: {exc}") from exc
    examples = {"day": "2026-10-14", "week": "2026-W43", "fiscal_month": "2026-10"}
    raise PartitionError(f"bad {grain} partition {key!r}; expected e.g. {examples[grain]}")


def partition_of(grain: Grain, day: date, calendar: FiscalCalendar = "calendar") -> Partition:
    """The partition at `grain` that contains `day`."""
    if grain == "day":
        return parse_partition(grain, day.isoformat(), calendar)
    if grain == "week":
        year, week, _ = day.isocalendar()
        return parse_partition(grain, f"{year}-W{week:02d}", calendar)
    if calendar == "calendar":
        return parse_partition(grain, f"{day.year}-{day.month:02d}", calendar)
    for year in (day.isocalendar()[0], day.isocalendar()[0] - 1):
        for month in range(1, 13):
            start, end = _fiscal_month_range(year, month, calendar)
            if start <= day <= end:
                return Partition(f"{year}-{month:02d}", grain, start, end, calendar)
    raise PartitionError(f"no fiscal month contains {day}")  # pragma: no cover


def partitions_between(
    grain: Grain, first: date, last: date, calendar: FiscalCalendar = "calendar"
) -> list[Partition]:
    """Every partition at `grain` overlapping [first, last], in order."""
    out: list[Partition] = []
    day = first
    while day <= last:
        part = partition_of(grain, day, calendar)
        out.append(part)
        day = part.end + timedelta(1)
    return out


def _fiscal_month_range(year: int, month: int, calendar: FiscalCalendar) -> tuple[date, date]:
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} out of range")
    if calendar == "calendar":
        start = date(year, month, 1)
        nxt = date(year + month // 12, month % 12 + 1, 1)
        return start, nxt - timedelta(1)
    year_start = date.fromisocalendar(year, 1, 1)
    next_year = date.fromisocalendar(year + 1, 1, 1)
    start = year_start + timedelta(weeks=sum(_445_WEEKS[: month - 1]))
    end = start + timedelta(weeks=_445_WEEKS[month - 1]) - timedelta(1)
    return start, (next_year - timedelta(1)) if month == 12 else end
