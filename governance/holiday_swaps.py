"""Who is primary each week once holidays are taken into account.

If week j's primary P is away at any time of the week, P swaps weeks with the next engineer
Q in rotation order who is free all of week j and has a later week of their own in which P
is back: Q takes week j, P takes the first such week of Q's. The search goes as far as it
must (past the end of P's holidays a week is always found), so nobody next in order is
passed over because P's holiday is long. Only if everyone else is away too is the week a
coverage gap: no primary, and the reason says so. Weeks are settled in time order from the
first holiday, so any week's answer is the same whichever window is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from governance.models import GovernanceConfig, Holiday
from governance.rotation import holiday_interval, week_index, week_of_date, week_start


@dataclass(frozen=True)
class Primary:
    """A week's primary (None: nobody free, a coverage gap) and why."""

    name: str | None
    reasons: tuple[str, ...]


class HolidayCalendar:
    """Holidays as UTC ranges, looked up by engineer and rotation week."""

    def __init__(self, config: GovernanceConfig) -> None:
        self.config = config
        self.ranges: dict[str, list[tuple[datetime, datetime, Holiday]]] = {}
        for h in config.holidays:
            self.ranges.setdefault(h.engineer, []).append((*holiday_interval(config, h), h))
        self._weeks: dict[int, tuple[datetime, datetime]] = {}

    def week(self, k: int) -> tuple[datetime, datetime]:
        """Week k as [handoff, next handoff) in UTC."""
        if k not in self._weeks:
            self._weeks[k] = (week_start(self.config, k), week_start(self.config, k + 1))
        return self._weeks[k]

    def away(self, engineer: str, k: int) -> Holiday | None:
        """A holiday of `engineer` overlapping any moment of week k."""
        begin, end = self.week(k)
        ranges = self.ranges.get(engineer, [])
        return next((h for first, after, h in ranges if first < end and begin < after), None)

    def first_week(self) -> int | None:
        """The earliest week any holiday touches."""
        firsts = [first for ranges in self.ranges.values() for first, _, _ in ranges]
        return week_index(self.config, min(firsts)) if firsts else None

    def last_week(self, engineer: str) -> int | None:
        """The last week a holiday of `engineer` touches."""
        afters = [after for _, after, _ in self.ranges.get(engineer, [])]
        return week_index(self.config, max(afters)) if afters else None


def primaries(
    config: GovernanceConfig, first: int, last: int, calendar: HolidayCalendar
) -> dict[int, Primary]:
    """Primaries of weeks first..last (first >= 0) after holiday swaps."""
    order = config.rotation.order
    n = len(order)
    settled: dict[int, Primary] = {}

    def who(k: int) -> str | None:
        return settled[k].name if k in settled else order[k % n]

    fixed = {
        week_of_date(config, o.week) for o in config.overrides if o.week and o.primary
    }  # a week whose primary is overridden neither swaps nor is swapped into
    earliest = calendar.first_week()
    origin = first if earliest is None else max(0, min(first, earliest))
    for j in range(origin, last + 1):
        p = who(j)
        holiday = None if p is None or j in fixed else calendar.away(p, j)
        if p is None or holiday is None:
            continue
        span = f"{p} on holiday {holiday.from_}..{holiday.to}"
        horizon = max(j, calendar.last_week(p) or j, *fixed, *settled) + 2 * n + 2
        partner = _swap_partner(p, j, who, calendar, order, fixed, horizon)
        if partner is None:  # past the horizon every free engineer has a week: nobody is free
            settled[j] = Primary(None, (f"coverage gap: {span} and nobody else is free",))
            continue
        q, m = partner
        settled[j] = Primary(q, (f"swap with {p}: {span}",))
        settled[m] = Primary(p, (f"swap with {q}: {q} covered {p}'s week",))
    return {k: settled.get(k, Primary(order[k % n], ("rotation",))) for k in range(first, last + 1)}


def _swap_partner(
    p: str,
    j: int,
    who: Callable[[int], str | None],
    calendar: HolidayCalendar,
    order: list[str],
    fixed: set[int],
    horizon: int,
) -> tuple[str, int] | None:
    """The first engineer after `p` in order free in week j, with their first later week
    (before `horizon`) in which `p` is back.

    `horizon` lies 2n+2 weeks past the last holiday, override and swap in play, so an
    engineer free in week j always has such a week before it: None means nobody is free.
    """
    for q in _after(order, p):
        if calendar.away(q, j) is not None:
            continue
        weeks = range(j + 1, horizon)
        m = next(
            (m for m in weeks if who(m) == q and m not in fixed and calendar.away(p, m) is None),
            None,
        )
        if m is not None:
            return q, m
    return None


def _after(order: list[str], name: str) -> list[str]:
    """Everyone else, in rotation order starting after `name`."""
    start = order.index(name) if name in order else -1
    rotated = [order[(start + step) % len(order)] for step in range(1, len(order) + 1)]
    return [q for q in rotated if q != name]
