"""Step family `transforms`: re-run a pipeline's transform for one partition.

The transform replaces its partition inside one transaction, so a retry or a second run
leaves the same warehouse; a source that is down raises a transient failure, which the
step's `retries:` can wait out.
"""

from __future__ import annotations

from pydantic import BaseModel

from recovery_tasks.context import StepContext
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type


class RerunResult(BaseModel):
    """Rows written per table."""

    pipeline: str
    partition: str
    rows: dict[str, int]

    def evidence(self) -> str:
        """Rows written."""
        tables = ", ".join(f"{table}: {count}" for table, count in self.rows.items())
        return f"Re-ran `{self.pipeline}` for {self.partition}: {tables}"


@step_type("transforms.rerun", params=PartitionParams, result=RerunResult)
def rerun(params: PartitionParams, ctx: StepContext) -> RerunResult:
    """Re-run the transformation queries for the partition (atomic replace)."""
    from warehouse.preflight import preflight
    from warehouse.transform import resolve, run_transform

    platform = ctx.run.platform()
    pipe, part = resolve(params.pipeline_of(ctx), params.partition, platform.config.fiscal_calendar)
    preflight(platform, pipe, part)
    result = run_transform(platform, pipe, part)
    return RerunResult(pipeline=pipe.name, partition=part.key, rows=dict(result.rows))
