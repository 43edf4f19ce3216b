"""Who is on call: weekly rotation, holiday swaps, backups that skip holidays, overrides.

Rules, in order of strength:
1. Rotation: week k's primary is `order[k mod n]`; the backup is the next in order.
2. Holiday swap: if week j's primary P is on holiday in week j, P swaps weeks with the next
   engineer Q in rotation order who is not on holiday in week j and whose own (next) week is
   free of P's holidays. Only those two weeks change. Weeks are settled in time order from
   the first holiday, so any week's answer is the same whichever window is asked for.
3. The backup is the next engineer in order after the primary who is not on holiday.
4. Overrides (a week or a time range) win over everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from governance.models import GovernanceConfig, Holiday, Override
from governance.rotation import (
    localize,
    override_interval,
    week_days,
    week_index,
    week_of_date,
    week_start,
)


@dataclass(frozen=True)
class OnCall:
    """Who is on call for a stretch of time, and why.

    `week_start`/`week_end` are the rotation week's handoffs; `start`/`end` bound this
    assignment, which is the whole week unless a time-range override splits it.
    """

    primary: str
    backup: str
    week_start: datetime
    week_end: datetime
    reasons: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None

    @property
    def why(self) -> str:
        """The reasons as one line, e.g. `swap with B: ...; backup C on holiday`."""
        return "; ".join(self.reasons)


def on_call_at(config: GovernanceConfig, when: datetime) -> OnCall:
    """Primary and backup at one instant (a naive `when` is rotation-local time)."""
    when = localize(config, when)
    k = week_index(config, when)
    for part in _week_parts(config, k, _primaries(config, k, k)[k]):
        assert part.start is not None and part.end is not None
        if part.start <= when < part.end:
            return part
    raise AssertionError("a week's parts cover the week")  # pragma: no cover


def schedule(config: GovernanceConfig, start: datetime, weeks: int) -> list[OnCall]:
    """Assignments of `weeks` weeks from the week containing `start`, in time order.

    A week split by a time-range override appears as several entries.
    """
    if weeks <= 0:
        return []
    first = week_index(config, start)
    last = first + weeks - 1
    primaries = _primaries(config, first, last)
    return [part for k in range(first, last + 1) for part in _week_parts(config, k, primaries[k])]


@dataclass(frozen=True)
class _Primary:
    name: str
    reasons: tuple[str, ...]


class _Calendar:
    """Holiday lookups by engineer and week."""

    def __init__(self, config: GovernanceConfig) -> None:
        self.config = config
        self.by_engineer: dict[str, list[Holiday]] = {}
        for h in config.holidays:
            self.by_engineer.setdefault(h.engineer, []).append(h)

    def away(self, engineer: str, k: int) -> Holiday | None:
        first, last = week_days(self.config, k)
        return next((h for h in self.by_engineer.get(engineer, []) if h.covers(first, last)), None)

    def first_week(self) -> int | None:
        starts = [week_of_date(self.config, h.from_) for h in self.config.holidays]
        return min(starts) if starts else None


def _primaries(config: GovernanceConfig, first: int, last: int) -> dict[int, _Primary]:
    """Primaries of weeks first..last after holiday swaps, settled from the first holiday."""
    order = config.rotation.order
    n = len(order)
    calendar = _Calendar(config)
    swapped: dict[int, _Primary] = {}

    def who(k: int) -> str:
        return swapped[k].name if k in swapped else order[k % n]

    fixed = {
        week_of_date(config, o.week) for o in config.overrides if o.week and o.primary
    }  # a week whose primary is overridden neither swaps nor is swapped into
    earliest = calendar.first_week()
    origin = first if earliest is None else min(first, earliest)
    for j in range(origin, last + 1):
        p = who(j)
        holiday = calendar.away(p, j)
        if holiday is None or j in fixed:
            continue
        partner = _swap_partner(p, j, who, calendar, order, fixed)
        if partner is None:
            swapped[j] = _Primary(p, (f"{p} on holiday {_span(holiday)}; nobody free to swap",))
            continue
        q, m = partner
        swapped[j] = _Primary(q, (f"swap with {p}: {p} on holiday {_span(holiday)}",))
        swapped[m] = _Primary(p, (f"swap with {q}: {q} covered {p}'s week",))
    return {
        k: swapped.get(k, _Primary(order[k % n], ("rotation",))) for k in range(first, last + 1)
    }


def _swap_partner(
    p: str,
    j: int,
    who: Callable[[int], str],
    calendar: _Calendar,
    order: list[str],
    fixed: set[int],
) -> tuple[str, int] | None:
    """The first engineer after `p` in order who can take week j and give p their next week."""
    n = len(order)
    start = order.index(p) if p in order else -1
    for step in range(1, n):
        q = order[(start + step) % n]
        if q == p or calendar.away(q, j) is not None:
            continue
        weeks = range(j + 1, j + 2 * n + 1)
        m = next((m for m in weeks if who(m) == q and m not in fixed), None)
        if m is not None and calendar.away(p, m) is None:
            return q, m
    return None


def _backup(
    config: GovernanceConfig, primary: str, k: int, calendar: _Calendar
) -> tuple[str, list[str]]:
    """The next engineer in order after `primary` who is not on holiday in week k."""
    order = config.rotation.order
    start = order.index(primary) if primary in order else -1
    candidates = [order[(start + s) % len(order)] for s in range(1, len(order) + 1)]
    candidates = [c for c in candidates if c != primary]
    skipped: list[str] = []
    for c in candidates:
        if calendar.away(c, k) is None:
            return c, [f"backup {s} on holiday" for s in skipped]
        skipped.append(c)
    return candidates[0], ["everyone else on holiday: backup unchanged"]


def _week_parts(config: GovernanceConfig, k: int, primary: _Primary) -> list[OnCall]:
    """Week k cut at the boundaries of any overrides inside it, each part with its people."""
    calendar = _Calendar(config)
    begin, end = week_start(config, k), week_start(config, k + 1)
    overrides = [
        (s, e, o)
        for o in config.overrides
        for s, e in [override_interval(config, o)]
        if s < end and begin < e
    ]
    cuts = sorted({begin, end, *(t for s, e, _ in overrides for t in (s, e) if begin < t < end)})
    parts = []
    for a, b in pairwise(cuts):
        active = next((o for s, e, o in overrides if s <= a < e), None)
        parts.append(_assign(config, k, primary, active, calendar, begin, end, a, b))
    return parts


def _assign(
    config: GovernanceConfig,
    k: int,
    primary: _Primary,
    override: Override | None,
    calendar: _Calendar,
    begin: datetime,
    end: datetime,
    a: datetime,
    b: datetime,
) -> OnCall:
    reasons = list(primary.reasons)
    name = primary.name
    if override is not None:
        label = f"override: {override.reason}" if override.reason else "override"
        reasons = [label]
        name = override.primary or name
    if override is not None and override.backup is not None:
        backup = override.backup
    else:
        backup, notes = _backup(config, name, k, calendar)
        reasons += notes
    return OnCall(name, backup, begin, end, reasons, a, b)


def _span(h: Holiday) -> str:
    return f"{h.from_}..{h.to}"
