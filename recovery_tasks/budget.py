"""Waiting within the SLA: a time budget from the incident's clock, and backoff with jitter.

A step that waits (for a source, for late rows, for the portal) does not count retries; it
gets a share of the SLA time the incident has left (at most half by default, so the rest
remains for approval and publishing) and probes with exponential backoff and jitter until
the probe succeeds or the budget is spent. The budget is the step's one retry policy: such
steps leave Prefect's `retries:` at 0 and raise a terminal error when the budget runs out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from pydantic import Field

from foundation.durations import Duration, format_duration
from recovery_tasks.context import StepContext
from recovery_tasks.params import StepParams

T = TypeVar("T")


class BudgetParams(StepParams):
    """How long a step may keep trying: a share of the SLA time left, capped."""

    budget: float = Field(
        default=0.5, gt=0, le=1, description="Share of the incident's SLA time left to spend"
    )
    max_wait: Duration | None = Field(default=None, description="Never wait longer than this")
    first_delay: Duration = Field(
        default=timedelta(seconds=1), description="Wait after the first failed attempt"
    )
    max_delay: Duration = Field(
        default=timedelta(minutes=5), description="Longest wait between two attempts"
    )


@dataclass(frozen=True)
class Budget:
    """The time a step may spend, and where it came from (for the evidence)."""

    seconds: float
    sla_left: float | None

    def describe(self, share: float) -> str:
        """E.g. `12m (50% of the SLA time left, 24m)`."""
        spent = format_duration(timedelta(seconds=round(self.seconds)))
        if self.sla_left is None:
            return spent
        left = format_duration(timedelta(seconds=max(0, round(self.sla_left))))
        return f"{spent} ({share:.0%} of the SLA time left, {left})"


def budget_for(params: BudgetParams, ctx: StepContext, now: datetime | None = None) -> Budget:
    """The step's budget: its share of the incident's SLA time left, capped by `max_wait`."""
    from governance.incidents.recorder import sla_left  # deferred: the catalog loads without SQL

    now = now or datetime.now(UTC)
    left = sla_left(ctx.incident, now)
    if left is None and ctx.services is not None:  # no incident recorded: the pipeline's SLA
        left = ctx.run.governance.pipeline(ctx.pipeline).sla
    if left is None:
        seconds = params.max_wait.total_seconds() if params.max_wait else 0.0
        return Budget(seconds, None)
    seconds = max(0.0, left.total_seconds()) * params.budget
    if params.max_wait is not None:
        seconds = min(seconds, params.max_wait.total_seconds())
    return Budget(seconds, left.total_seconds())


@dataclass
class Backoff:
    """Exponential delays (x2 per attempt, capped) with equal jitter: half fixed, half random."""

    first: float
    cap: float
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        base = min(self.cap, self.first * 2 ** (attempt - 1))
        return base / 2 + self.rng.uniform(0, base / 2)


@dataclass(frozen=True)
class Tried(Generic[T]):
    """How a budgeted attempt loop ended."""

    value: T | None
    succeeded: bool
    attempts: int
    waited: float
    first_problem: str | None
    last_problem: str | None


Attempt = Callable[[], tuple[bool, T | None, str | None]]
"""One try: (succeeded, value, problem when it did not)."""


def keep_trying(
    attempt: Attempt[T],
    budget: Budget,
    backoff: Backoff,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Tried[T]:
    """Call `attempt` until it succeeds or the budget is spent (always at least once).

    The last wait is shortened so the final attempt happens at the budget's end, not after.
    """
    start = clock()
    first: str | None = None
    number = 0
    while True:
        number += 1
        ok, value, problem = attempt()
        waited = clock() - start
        if ok:
            return Tried(value, True, number, waited, first, None)
        first = first or problem
        remaining = budget.seconds - waited
        if remaining <= 0:
            return Tried(None, False, number, waited, first, problem)
        sleep(min(backoff.delay(number), remaining))


def backoff_of(params: BudgetParams) -> Backoff:
    """The step's backoff from its params."""
    return Backoff(params.first_delay.total_seconds(), params.max_delay.total_seconds())
