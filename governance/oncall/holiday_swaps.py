"""Who is primary each week once long absences are taken into account.

A week is swapped only when its primary is away for most of it (more than
`rotation.swap_threshold` percent of its hours, 50 by default); shorter absences keep the
week and are covered hour by hour (`hours`). The swap keeps "one week on, three off":
the absent engineer P gives week j to the next engineer Q in rotation order who is present
for it and takes Q's *next* own week in exchange, if P is back by then; otherwise the next
engineer after Q is asked, and so on. Taking the partner's next week (not their first week
in which P is back, however far) is what stops a swap from making anyone work two weeks
running. If nobody can trade, the first engineer present covers the week without a week
back; only if everyone is away is the week a coverage gap. Weeks are settled in time order
from the first absence, so a week's answer is the same whichever window is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from governance.models import GovernanceConfig
from governance.oncall.absences import Absences
from governance.oncall.rotation import week_of_date


@dataclass(frozen=True)
class Primary:
    """A week's primary (None: nobody free, a coverage gap) and why; `absent` is whose week
    it was when a long absence gave it away."""

    name: str | None
    reasons: tuple[str, ...]
    absent: str | None = None


def primaries(
    config: GovernanceConfig, first: int, last: int, absences: Absences
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
    earliest = absences.first_week()
    origin = first if earliest is None else max(0, min(first, earliest))
    for j in range(origin, last + 1):
        p = who(j)
        absence = None if p is None or j in fixed else absences.mostly_away(p, j)
        if p is None or absence is None:
            continue
        trade = _trade(p, j, who, absences, order, fixed)
        if trade is not None:
            q, m = trade
            settled[j] = Primary(q, (f"swap with {p}: {absence.label}",), p)
            settled[m] = Primary(p, (f"swap with {q}: {q} covered {p}'s week",))
            continue
        cover = next((q for q in after(order, p) if absences.mostly_away(q, j) is None), None)
        if cover is None:
            why = f"coverage gap: {absence.label} and nobody else is free"
            settled[j] = Primary(None, (why,), p)
        else:
            why = f"{cover} covers {p}'s week: {absence.label}; no week of {cover}'s to swap"
            settled[j] = Primary(cover, (why,), p)
    return {k: settled.get(k, Primary(order[k % n], ("rotation",))) for k in range(first, last + 1)}


def _trade(
    p: str,
    j: int,
    who: Callable[[int], str | None],
    absences: Absences,
    order: list[str],
    fixed: set[int],
) -> tuple[str, int] | None:
    """The first engineer after `p` in order present for week j whose next own week (after
    j, not overridden) `p` is present for; with that week."""
    for q in after(order, p):
        if absences.mostly_away(q, j) is not None:
            continue
        weeks = range(j + 1, j + 2 * len(order) + 1)
        m = next((m for m in weeks if who(m) == q and m not in fixed), None)
        if m is not None and absences.mostly_away(p, m) is None:
            return q, m
    return None


def after(order: list[str], name: str) -> list[str]:
    """Everyone else, in rotation order starting after `name`."""
    start = order.index(name) if name in order else -1
    rotated = [order[(start + step) % len(order)] for step in range(1, len(order) + 1)]
    return [q for q in rotated if q != name]
