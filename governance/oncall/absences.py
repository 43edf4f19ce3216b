"""Who is away when, as time: personal holidays and the public holidays of each calendar.

Both are whole local days of the rotation's zone. A public holiday is declared once per
calendar (region) and makes everyone on that calendar away, so a bank holiday is not copied
into four personal entries. Lookups answer two questions the schedule asks: is an engineer
away for *most* of a week (then the week is swapped) and are they free for a stretch of hours
(else someone covers those hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from governance.models import GovernanceConfig
from governance.oncall.rotation import days_interval, week_index, week_start


@dataclass(frozen=True)
class Absence:
    """An engineer away over [start, end) in UTC, and how to say why."""

    engineer: str
    start: datetime
    end: datetime
    label: str


class Absences:
    """Absences per engineer, looked up by time range and by rotation week."""

    def __init__(self, config: GovernanceConfig) -> None:
        self.config = config
        self.threshold = config.rotation.swap_threshold / 100
        self.by_engineer: dict[str, list[Absence]] = {}
        for h in config.holidays:
            label = f"{h.engineer} on holiday {h.from_}..{h.to}"
            self._add(h.engineer, h.from_, h.to, label)
        for name in config.engineers:
            calendar = config.calendar_of(name)
            for day in config.public_holidays.get(calendar or "", []):
                days = f"{day.from_}" if day.last == day.from_ else f"{day.from_}..{day.last}"
                self._add(name, day.from_, day.last, f"{name} off: {day.name} {days}")
        self._weeks: dict[int, tuple[datetime, datetime]] = {}

    def _add(self, engineer: str, first: date, last: date, label: str) -> None:
        start, end = days_interval(self.config, first, last)
        self.by_engineer.setdefault(engineer, []).append(Absence(engineer, start, end, label))

    def week(self, k: int) -> tuple[datetime, datetime]:
        """Week k as [handoff, next handoff) in UTC."""
        if k not in self._weeks:
            self._weeks[k] = (week_start(self.config, k), week_start(self.config, k + 1))
        return self._weeks[k]

    def touching(self, engineer: str, begin: datetime, end: datetime) -> Absence | None:
        """The first absence of `engineer` overlapping [begin, end), if any."""
        ranges = self.by_engineer.get(engineer, [])
        return next((a for a in ranges if a.start < end and begin < a.end), None)

    def free(self, engineer: str, begin: datetime, end: datetime) -> bool:
        """Whether `engineer` is present for all of [begin, end)."""
        return self.touching(engineer, begin, end) is None

    def away_time(self, engineer: str, begin: datetime, end: datetime) -> timedelta:
        """How much of [begin, end) `engineer` is away (overlapping absences counted once)."""
        spans = sorted(
            (max(a.start, begin), min(a.end, end))
            for a in self.by_engineer.get(engineer, [])
            if a.start < end and begin < a.end
        )
        total, reach = timedelta(0), begin
        for first, after in spans:
            first = max(first, reach)
            if after > first:
                total += after - first
                reach = after
        return total

    def mostly_away(self, engineer: str, k: int) -> Absence | None:
        """An absence of `engineer` in week k when, together, they cover more than the
        swap threshold of the week's hours; None when the week is theirs to keep."""
        begin, end = self.week(k)
        if self.away_time(engineer, begin, end) <= self.threshold * (end - begin):
            return None
        return self.touching(engineer, begin, end)

    def cuts(self, begin: datetime, end: datetime) -> set[datetime]:
        """Every absence boundary strictly inside [begin, end)."""
        return {
            t
            for ranges in self.by_engineer.values()
            for a in ranges
            for t in (a.start, a.end)
            if begin < t < end
        }

    def first_week(self) -> int | None:
        """The earliest week any absence touches."""
        firsts = [a.start for ranges in self.by_engineer.values() for a in ranges]
        return week_index(self.config, min(firsts)) if firsts else None
