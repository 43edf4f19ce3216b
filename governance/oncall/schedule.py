"""Who is on call: weekly rotation, swaps for long absences, hourly cover for short ones.

Rules, in order of strength:
1. Rotation: from `rotation.start`, week k's primary is `order[k mod n]`; the backup is the
   next in order. Before the start nobody is on call: asking is a `NoRotationYet` error.
2. Swap (`holiday_swaps`): a primary away for most of their week (over
   `rotation.swap_threshold`, 50% of its hours) trades it for the partner's next week.
3. Hourly cover (`hours`): a shorter absence (a day, a bank holiday) keeps the week;
   the backup, or the next engineer present, takes those hours. The backup is the next
   engineer after the primary not away for most of the week, covered the same way.
4. Overrides (a week or a time range) win over everything.

Absences (`absences`) are whole local days of the rotation's zone: personal holidays and the
public holidays of each engineer's calendar. A gap is only the hours in which nobody is
present. `docs/oncall.md` works an example of each rule.
"""

from __future__ import annotations

from datetime import datetime

from foundation.errors import TerminalError
from governance.errors import GovernanceError
from governance.models import GovernanceConfig
from governance.oncall.absences import Absences
from governance.oncall.holiday_swaps import primaries
from governance.oncall.hours import week_parts
from governance.oncall.rotation import localize, week_index, week_start
from governance.oncall.shifts import OnCall

__all__ = ["NoRotationYet", "OnCall", "on_call_at", "rotation_start", "schedule"]


class NoRotationYet(GovernanceError, TerminalError):
    """Asked who is on call before the rotation's first handoff."""


def rotation_start(config: GovernanceConfig) -> datetime:
    """The first handoff, in UTC: nobody is on call before it."""
    return week_start(config, 0)


def on_call_at(config: GovernanceConfig, when: datetime) -> OnCall:
    """Primary and backup at one instant (a naive `when` is rotation-local time)."""
    when = localize(config, when)
    k = _week(config, when)
    absences = Absences(config)
    for part in week_parts(config, k, primaries(config, k, k, absences)[k], absences):
        start, end = part.span
        if start <= when < end:
            return part
    raise AssertionError("a week's parts cover the week")  # pragma: no cover


def schedule(config: GovernanceConfig, start: datetime, weeks: int) -> list[OnCall]:
    """Assignments of `weeks` weeks from the week containing `start`, in time order.

    A week split by a time-range override or a short absence appears as several entries.
    """
    if weeks <= 0:
        return []
    first = _week(config, start)
    last = first + weeks - 1
    absences = Absences(config)
    settled = primaries(config, first, last, absences)
    return [
        part for k in range(first, last + 1) for part in week_parts(config, k, settled[k], absences)
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
