"""Step family `transforms`: re-run a pipeline's transform for one partition.

The transform replaces its partition inside one transaction, so a retry or a second run
leaves the same warehouse. With `retry_budget`, failures that may clear by themselves (a
source outage, a failing transformation, a storage limit) are retried with backoff and
jitter within that share of the incident's SLA time left: one retry policy for the step
(leave Prefect's `retries:` at 0), and when the budget runs out the step fails with the
last failure.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from foundation.durations import Duration
from recovery_tasks.budget import BudgetParams, backoff_of, budget_for, keep_trying
from recovery_tasks.context import StepContext
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type

RETRIED_KINDS = ("source_outage", "etl_job_failure", "storage_partition")


class RerunParams(PartitionParams):
    """The partition, and whether failures that may clear are retried within a budget."""

    retry_budget: float | None = Field(
        default=None, gt=0, le=1, description="Share of the SLA time left to keep retrying"
    )
    max_wait: Duration | None = Field(default=None, description="Cap on the retry budget")


class RerunResult(BaseModel):
    """Rows written per table."""

    pipeline: str
    partition: str
    rows: dict[str, int]
    attempts: int = 1
    first_failure: str | None = None

    def evidence(self) -> str:
        """Rows written, and what failed before if it took several attempts."""
        tables = ", ".join(f"{table}: {count}" for table, count in self.rows.items())
        head = f"Re-ran `{self.pipeline}` for {self.partition}: {tables}"
        if self.attempts > 1:
            head += f" (attempt {self.attempts}; first failure: {self.first_failure})"
        return head

    def partition_effect(self) -> tuple[str, str] | None:
        """It replaced the whole partition."""
        return "partition", f"wrote the partition ({sum(self.rows.values())} rows)"


@step_type("transforms.rerun", params=RerunParams, result=RerunResult)
def rerun(params: RerunParams, ctx: StepContext) -> RerunResult:
    """Re-run the transformation queries for the partition (atomic replace)."""
    from warehouse.failures import PipelineFailure
    from warehouse.preflight import preflight
    from warehouse.transform import run_transform

    platform = ctx.run.platform()
    pipe, part = params.target(ctx)

    def attempt() -> tuple[bool, dict[str, int] | None, str | None]:
        try:
            preflight(platform, pipe, part)
            return True, dict(run_transform(platform, pipe, part).rows), None
        except PipelineFailure as failure:
            if params.retry_budget is None or failure.kind not in RETRIED_KINDS:
                raise
            return False, None, str(failure)

    budget_params = BudgetParams(budget=params.retry_budget or 1.0, max_wait=params.max_wait)
    tried = keep_trying(attempt, budget_for(budget_params, ctx), backoff_of(budget_params))
    if not tried.succeeded or tried.value is None:
        raise TerminalStepError(
            f"the transform of {pipe.name} {part.key} kept failing for {tried.waited:.0f}s "
            f"({tried.attempts} attempts within its budget): {tried.last_problem}"
        )
    return RerunResult(
        pipeline=pipe.name,
        partition=part.key,
        rows=tried.value,
        attempts=tried.attempts,
        first_failure=tried.first_problem,
    )
