"""Who is on call: weekly rotation, holiday swaps, backups that skip holidays, overrides.

Rules, in order of strength:
1. Rotation: from `rotation.start`, week k's primary is `order[k mod n]`; the backup is the
   next in order. Before the start nobody is on call: asking is a `NoRotationYet` error.
2. Holiday swap (`holiday_swaps`): a primary away at any time of their week swaps weeks with
   the next engineer in order who is free; if everyone else is away too, the week has no
   primary, a coverage gap, and says so.
3. The backup is the next engineer in order after the primary who is free all week; if
   nobody is, the week has no backup (also a gap).
4. Overrides (a week or a time range) win over everything.

Holidays cover whole local days of the rotation's zone; any overlap with [handoff, next
handoff) makes an engineer unavailable for that week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from foundation.errors import TerminalError
from governance.errors import GovernanceError
from governance.holiday_swaps import HolidayCalendar, Primary, primaries
from governance.models import GovernanceConfig, Override
from governance.rotation import localize, override_interval, week_index, week_start


class NoRotationYet(GovernanceError, TerminalError):
    """Asked who is on call before the rotation's first handoff."""


@dataclass(frozen=True)
class OnCall:
    """Who is on call for a stretch of time, and why.

    `week_start`/`week_end` are the rotation week's handoffs; `start`/`end` bound this
    assignment, which is the whole week unless a time-range override splits it. A name is
    None when nobody free can take the role: a coverage gap.
    """

    primary: str | None
    backup: str | None
    week_start: datetime
    week_end: datetime
    reasons: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None

    @property
    def why(self) -> str:
        """The reasons as one line, e.g. `swap with B: ...; backup C on holiday`."""
        return "; ".join(self.reasons)

    @property
    def gaps(self) -> tuple[str, ...]:
        """The roles nobody covers: `primary`, `backup`, both or none."""
        return tuple(role for role in ("primary", "backup") if getattr(self, role) is None)

    @property
    def people(self) -> tuple[str, ...]:
        """Who is actually on call, primary first (nobody on holiday is listed)."""
        return tuple(name for name in (self.primary, self.backup) if name is not None)


def rotation_start(config: GovernanceConfig) -> datetime:
    """The first handoff, in UTC: nobody is on call before it."""
    return week_start(config, 0)


def on_call_at(config: GovernanceConfig, when: datetime) -> OnCall:
    """Primary and backup at one instant (a naive `when` is rotation-local time)."""
    when = localize(config, when)
    k = _week(config, when)
    calendar = HolidayCalendar(config)
    for part in _week_parts(config, k, primaries(config, k, k, calendar)[k], calendar):
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
    first = _week(config, start)
    last = first + weeks - 1
    calendar = HolidayCalendar(config)
    settled = primaries(config, first, last, calendar)
    return [
        part
        for k in range(first, last + 1)
        for part in _week_parts(config, k, settled[k], calendar)
    ]


def _week(config: GovernanceConfig, when: datetime) -> int:
    k = week_index(config, when)
    if k < 0:
        begins = localize(config, rotation_start(config))
        raise NoRotationYet(
            f"no rotation yet at {localize(config, when):%Y-%m-%d %H:%M %Z}: it begins "
            f"{begins:%Y-%m-%d %a %H:%M %Z} ({config.rotation.timezone}); ask from then on"
        )
    return k


def _backup(
    config: GovernanceConfig, primary: str | None, k: int, calendar: HolidayCalendar
) -> tuple[str | None, list[str]]:
    """The next engineer in order after the primary who is free all of week k."""
    order = config.rotation.order
    anchor = primary if primary is not None else order[k % len(order)]
    start = order.index(anchor) if anchor in order else -1
    candidates = [order[(start + s) % len(order)] for s in range(1, len(order) + 1)]
    candidates = [c for c in candidates if c != primary]
    skipped: list[str] = []
    for c in candidates:
        if calendar.away(c, k) is None:
            return c, [f"backup {s} on holiday" for s in skipped]
        skipped.append(c)
    return None, ["coverage gap: no backup, everyone else on holiday"]


def _week_parts(
    config: GovernanceConfig, k: int, primary: Primary, calendar: HolidayCalendar
) -> list[OnCall]:
    """Week k cut at the boundaries of any overrides inside it, each part with its people."""
    begin, end = calendar.week(k)
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
        parts.append(_assign(config, k, primary, active, calendar, (begin, end), (a, b)))
    return parts


def _assign(
    config: GovernanceConfig,
    k: int,
    primary: Primary,
    override: Override | None,
    calendar: HolidayCalendar,
    week: tuple[datetime, datetime],
    part: tuple[datetime, datetime],
) -> OnCall:
    reasons = list(primary.reasons)
    name = primary.name
    if override is not None:
        label = f"override: {override.reason}" if override.reason else "override"
        reasons = [label] if override.primary else [*reasons, label]
        name = override.primary or name
    if override is not None and override.backup is not None:
        backup: str | None = override.backup
    else:
        backup, notes = _backup(config, name, k, calendar)
        reasons += notes
    return OnCall(name, backup, *week, reasons, *part)
