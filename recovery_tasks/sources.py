"""Step family `sources`: wait for a pipeline's source to be ready, within the SLA budget.

`sources.wait` probes the conditions it is given (the source answers, its schema keeps the
contract, every day has the rows the source announced, critical fields are valid) with
exponential backoff and jitter, for at most its share of the incident's SLA time left. It is
how a runbook rides out an outage, waits for late rows that have no second copy, or waits
for a person to fix the source while the clock allows; probing only reads, so the step is
safe to repeat. When the budget runs out it fails with what is still wrong.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from recovery_tasks.budget import BudgetParams, backoff_of, budget_for, keep_trying
from recovery_tasks.context import StepContext
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type

Condition = Literal["reachable", "contract", "complete", "quality"]


class WaitForSourceParams(PartitionParams, BudgetParams):
    """What must hold before the step succeeds, and how long it may wait."""

    until: list[Condition] = Field(
        default_factory=lambda: ["reachable"],
        min_length=1,
        description="reachable, contract, complete (rows per day as announced), quality",
    )


class WaitForSourceResult(BaseModel):
    """How long the source took to become ready, and what was wrong before."""

    partition: str
    conditions: list[str]
    attempts: int
    waited_seconds: float
    budget: str
    first_problem: str | None = None

    def evidence(self) -> str:
        """Ready at once, or after how long and what it waited for."""
        wanted = ", ".join(self.conditions)
        if self.first_problem is None:
            return f"Source ready for {self.partition} ({wanted}) at the first probe."
        return (
            f"Source ready for {self.partition} ({wanted}) after {self.attempts} probes and "
            f"{self.waited_seconds:.0f}s of a budget of {self.budget}. "
            f"At first: {self.first_problem}"
        )


@step_type("sources.wait", params=WaitForSourceParams, result=WaitForSourceResult)
def wait(params: WaitForSourceParams, ctx: StepContext) -> WaitForSourceResult:
    """Wait, with backoff and jitter within the SLA budget, until the source is ready."""
    from warehouse.readiness import probe

    platform = ctx.run.platform()
    pipe, part = params.target(ctx)
    budget = budget_for(params, ctx)

    def attempt() -> tuple[bool, None, str | None]:
        readiness = probe(platform, pipe, part, list(params.until))
        return readiness.ready, None, None if readiness.ready else readiness.reason()

    tried = keep_trying(attempt, budget, backoff_of(params))
    described = budget.describe(params.budget)
    if not tried.succeeded:
        raise TerminalStepError(
            f"source of {pipe.name} {params.partition} not ready after {tried.attempts} probes "
            f"in {tried.waited:.0f}s (budget {described}): {tried.last_problem}; a person is "
            f"needed: fix the source, then `runbook retry {ctx.incident.get('id', 'INCIDENT')}`"
        )
    return WaitForSourceResult(
        partition=params.partition,
        conditions=list(params.until),
        attempts=tried.attempts,
        waited_seconds=round(tried.waited, 1),
        budget=described,
        first_problem=tried.first_problem,
    )
