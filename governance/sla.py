"""The SLA clock of an incident: pure arithmetic over the failure time and the pipeline's SLA.

The clock starts at the failure event's time (not when recovery starts) and keeps running
while a gate waits for approval: investors see the report late either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_THRESHOLDS = (0.5, 0.75)


@dataclass(frozen=True)
class SlaStatus:
    """Where an incident stands against its SLA at one instant."""

    opened_at: datetime
    sla: timedelta
    now: datetime
    deadline: datetime
    time_left: timedelta  # negative once breached
    fraction_used: float  # 0.0 at opening, 1.0 at the deadline, above after
    crossed: tuple[float, ...]  # notification thresholds already passed, ascending
    breached: bool


def sla_status(
    opened_at: datetime,
    sla: timedelta,
    now: datetime,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
) -> SlaStatus:
    """The clock at `now` (pass the resolution time to freeze it for a resolved incident)."""
    if sla <= timedelta(0):
        raise ValueError("an SLA must be longer than zero")
    _same_awareness(opened_at, now)
    deadline = opened_at + sla
    elapsed = now - opened_at
    fraction = elapsed / sla
    crossed = tuple(t for t in sorted(set(thresholds)) if fraction >= t)
    return SlaStatus(
        opened_at=opened_at,
        sla=sla,
        now=now,
        deadline=deadline,
        time_left=deadline - now,
        fraction_used=fraction,
        crossed=crossed,
        breached=now >= deadline,
    )


def deadline(opened_at: datetime, sla: timedelta) -> datetime:
    """When the incident must be resolved."""
    return opened_at + sla


def due_notifications(status: SlaStatus, already_sent: Iterable[float]) -> tuple[float, ...]:
    """Thresholds crossed but not yet notified, so a periodic check notifies each once."""
    sent = set(already_sent)
    return tuple(t for t in status.crossed if t not in sent)


def format_time_left(left: timedelta) -> str:
    """`2h05m left` or `breached 15m ago`, to the minute."""
    minutes = int(abs(left).total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    text = f"{hours}h{mins:02d}m" if hours else f"{mins}m"
    return f"{text} left" if left > timedelta(0) else f"breached {text} ago"


def _same_awareness(a: datetime, b: datetime) -> None:
    if (a.tzinfo is None) != (b.tzinfo is None):
        raise ValueError("opened_at and now must both be timezone-aware (or both naive)")
