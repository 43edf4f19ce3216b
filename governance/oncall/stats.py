"""How the on-call load fell on each engineer over a period: so a team lead can see that
swaps and cover kept the rotation fair.

A week counts for the role its holder has for most of the week's hours (a day of cover does
not make a week); hours count exactly. A back-to-back is two consecutive weeks as primary.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from governance.oncall.shifts import OnCall

ROLES = ("primary", "backup")


@dataclass
class EngineerLoad:
    """One engineer's share of the schedule."""

    weeks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROLES, 0))
    hours: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ROLES, 0.0))
    back_to_back: int = 0
    weeks_swapped_away: int = 0


@dataclass
class OnCallStats:
    """Every engineer's load, and the hours nobody covered."""

    engineers: dict[str, EngineerLoad]
    gap_hours: dict[str, float]
    gaps: int
    weeks: int


def oncall_stats(rows: list[OnCall], engineers: list[str]) -> OnCallStats:
    """Figures per engineer over the weeks `rows` cover (as `schedule` returns them)."""
    loads = {name: EngineerLoad() for name in engineers}
    gap_hours = dict.fromkeys(ROLES, 0.0)
    by_week: dict[datetime, list[OnCall]] = defaultdict(list)
    for row in rows:
        by_week[row.week_start].append(row)
        hours = _hours(row)
        for role in ROLES:
            name = getattr(row, role)
            if name is None:
                gap_hours[role] += hours
            elif name in loads:
                loads[name].hours[role] += hours
    holders = [_week_holders(parts) for parts in by_week.values()]
    for held in holders:
        for role, name in held.items():
            if name in loads:
                loads[name].weeks[role] += 1
    for before, after in pairwise(holders):
        name = before.get("primary")
        if name in loads and after.get("primary") == name:
            loads[name].back_to_back += 1
    for parts in by_week.values():
        absent = parts[0].week_absent
        if absent in loads:
            loads[absent].weeks_swapped_away += 1
    gaps = sum(1 for row in rows if row.gaps)
    return OnCallStats(loads, gap_hours, gaps, len(by_week))


def _week_holders(parts: list[OnCall]) -> dict[str, str]:
    """Per role, who holds it for more than half the week's hours."""
    week = parts[0].week_end - parts[0].week_start
    held: dict[str, str] = {}
    for role in ROLES:
        time: dict[str, timedelta] = defaultdict(timedelta)
        for part in parts:
            name = getattr(part, role)
            if name is not None:
                start, end = part.span
                time[name] += end - start
        best = max(time.items(), key=lambda item: item[1], default=None)
        if best is not None and best[1] * 2 > week:
            held[role] = best[0]
    return held


def _hours(row: OnCall) -> float:
    start, end = row.span
    return (end - start).total_seconds() / 3600
