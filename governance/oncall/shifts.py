"""A stretch of on-call time with its primary and backup: one row of the schedule.

A week is one shift unless an override or a short absence splits it; the parts of a split
week keep the week's handoffs and its settled primary, so a reader sees whose week it is and
who covers which hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class OnCall:
    """Who is on call for a stretch of time, and why.

    `week_start`/`week_end` are the rotation week's handoffs; `start`/`end` bound this
    assignment, which is the whole week unless an override or a short absence splits it.
    A name is None when nobody free can take the role: a coverage gap. `week_primary` is the
    week's primary after swaps (None in a week-long gap), whoever covers these hours;
    `week_absent` is whose week it was when a long absence gave it away.
    """

    primary: str | None
    backup: str | None
    week_start: datetime
    week_end: datetime
    reasons: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    week_primary: str | None = None
    week_absent: str | None = None

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

    @property
    def span(self) -> tuple[datetime, datetime]:
        """[start, end) of this assignment (the week when no split bounds it)."""
        return self.start or self.week_start, self.end or self.week_end
