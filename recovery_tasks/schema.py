"""Step family `schema`: the sources' schema against the pipeline's contract, as a drift report.

`schema.contract` lists every difference between each source table and the contract: added
columns are absorbed (recorded here, not fatal: the pipelines name the columns they read),
renames declared in the pipeline's contract are applied and shown to the approver, and a
dropped column (or an undeclared rename) fails the step with the report, so nothing is
published from a source that no longer has what the transform reads.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from recovery_tasks.context import StepContext
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type


class ColumnChangeOut(BaseModel):
    """One difference between a source table and the contract."""

    table: str
    change: str
    column: str
    source_column: str | None = None


class ContractResult(BaseModel):
    """The drift report of the pipeline's sources."""

    pipeline: str
    absorbed: list[ColumnChangeOut] = Field(default_factory=list)
    applied: list[ColumnChangeOut] = Field(default_factory=list)
    summary: str = "no drift"

    def evidence(self) -> str:
        """What drifted and what the run did about it."""
        if not self.absorbed and not self.applied:
            return "Sources match the contract: no drift."
        lines = ["| table | change | column | handled |", "|---|---|---|---|"]
        for c in self.applied:
            lines.append(
                f"| {c.table} | renamed | {c.source_column} → {c.column} | "
                "read under the contract's name (declared mapping) |"
            )
        for c in self.absorbed:
            lines.append(f"| {c.table} | added | {c.column} | absorbed: not read |")
        return "\n".join(lines)


@step_type("schema.contract", params=PartitionParams, result=ContractResult)
def contract(params: PartitionParams, ctx: StepContext) -> ContractResult:
    """Compare the sources with the contract: absorb added columns, apply declared renames."""
    from warehouse.contract import drift_report
    from warehouse.pipelines import get_pipeline

    pipe = get_pipeline(params.pipeline_of(ctx))
    report = drift_report(ctx.run.platform(), pipe)
    if report.blocking:
        raise TerminalStepError(
            f"source schema of {pipe.name} breaks its contract: {report.summary()}; restore "
            "the column or declare the rename in the pipeline's contract, then `runbook retry "
            f"{ctx.incident.get('id', 'INCIDENT')}`"
        )

    def out(changes: list) -> list[ColumnChangeOut]:
        return [
            ColumnChangeOut(
                table=c.table, change=c.change, column=c.column, source_column=c.source_column
            )
            for c in changes
        ]

    return ContractResult(
        pipeline=pipe.name,
        absorbed=out(report.absorbed),
        applied=out(report.applied),
        summary=report.summary(),
    )
