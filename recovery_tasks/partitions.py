"""Step family `partitions`: repair a partition's storage before it is written again.

`partitions.clean_half_written` reads the partition-run ledger: if the partition's last write
never finished (`running`, e.g. a worker killed mid-write), it removes the rows that write
left and its ledger row in one transaction, so no half-written partition stays visible while
the re-run is pending or if it fails. Any other state is left alone: running the step again,
or on a healthy partition, changes nothing.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, Field

from recovery_tasks.context import StepContext
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type


class CleanResult(BaseModel):
    """What the ledger said and what was removed."""

    pipeline: str
    partition: str
    status: str | None
    started_at: str | None = None
    rows_removed: dict[str, int] = Field(default_factory=dict)

    def evidence(self) -> str:
        """Whether the partition was half-written and what was removed."""
        if self.status != "running":
            return (
                f"{self.pipeline} {self.partition} is not half-written "
                f"(status {self.status or 'never written'}): nothing to clean."
            )
        removed = ", ".join(f"{t}: {n}" for t, n in self.rows_removed.items())
        return (
            f"{self.pipeline} {self.partition} was half-written (a write started at "
            f"{self.started_at} never finished): removed its rows ({removed})."
        )

    def partition_effect(self) -> tuple[str, str] | None:
        """The half-written rows it removed."""
        if self.status != "running":
            return None
        return "partition", f"removed {sum(self.rows_removed.values())} half-written rows"


@step_type("partitions.clean_half_written", params=PartitionParams, result=CleanResult)
def clean_half_written(params: PartitionParams, ctx: StepContext) -> CleanResult:
    """Detect a half-written partition from the run ledger and remove what it wrote."""
    from warehouse.cleanup import clean_half_written as clean

    result = clean(ctx.run.platform(), *params.target(ctx))
    return CleanResult(
        pipeline=result.pipeline,
        partition=result.partition,
        status=result.status,
        started_at=f"{result.started_at:%Y-%m-%d %H:%M:%S}" if result.started_at else None,
        rows_removed=result.rows_removed,
    )


class HealthResult(BaseModel):
    """The partition's state when the recovery began, and its pipeline's other broken ones."""

    pipeline: str
    partition: str
    status: str | None
    healthy: bool
    not_complete: list[str] = Field(default_factory=list)
    summary: str = ""
    publication_failed: bool = False  # the incident is a report-publishing failure
    failed_run: str | None = None  # the pipeline's flow run the event reports failed for it

    @classmethod
    def of(cls, pipeline: str, partition: str, status: str | None, others: list[str]) -> Self:
        """The result, with its one-sentence summary (never "recovered" for a healthy one)."""
        healthy = status == "complete"
        before = (
            "was complete before this run (nothing there needed recovering)"
            if healthy
            else f"was {status or 'never written'} before this run"
        )
        broken = ", ".join(others) or "none"
        summary = f"{partition} {before}; not complete in {pipeline}: {broken}"
        return cls(pipeline=pipeline, partition=partition, status=status, healthy=healthy,
                   not_complete=others, summary=summary)  # fmt: skip

    def run_outcome(self) -> str | None:
        """How the run ends when its partition was healthy (see `recovery_tasks.run_outcome`).

        A publishing failure leaves a complete partition by nature: its run republishes, so
        it says nothing here.
        """
        if not self.healthy or self.publication_failed or self.failed_run:
            return None
        broken = ", ".join(self.not_complete) or "none"
        return f"healthy — nothing to recover; not complete in {self.pipeline}: {broken}"

    def evidence(self) -> str:
        """Whether the event named a healthy partition, and which partitions are broken."""
        if not self.healthy:
            return f"{self.pipeline} {self.summary}."
        if self.failed_run:
            return (
                f"{self.pipeline} {self.partition} is complete as stored, but pipeline run "
                f"{self.failed_run} failed for it: what is stored predates that run, so this "
                f"run re-runs it. Not complete in {self.pipeline}: "
                f"{', '.join(self.not_complete) or 'none'}."
            )
        if self.publication_failed:
            return (
                f"{self.pipeline} {self.partition} is complete, as a publishing failure leaves "
                f"it: this run republishes it. Not complete in {self.pipeline}: "
                f"{', '.join(self.not_complete) or 'none'}."
            )
        return (
            f"{self.pipeline} {self.partition} is complete: every blocking check passed on it "
            f"before this run, so the event names a healthy partition and this run recovers "
            f"nothing there. Not complete in {self.pipeline}: "
            f"{', '.join(self.not_complete) or 'none'}."
        )


@step_type("partitions.health", params=PartitionParams, result=HealthResult)
def health(params: PartitionParams, ctx: StepContext) -> HealthResult:
    """Say whether the event's partition is already complete, and name the broken ones."""
    from warehouse.failures import FailureKind
    from warehouse.partition_state import not_complete, read_state

    pipeline, engine = params.pipeline_of(ctx), ctx.run.platform().warehouse
    state = read_state(engine, pipeline, params.partition)
    others = [s.label() for s in not_complete(engine, pipeline) if s.partition != params.partition]
    result = HealthResult.of(
        pipeline, params.partition, state.status if state is not None else None, others
    )
    result.publication_failed = ctx.incident.get("kind") == FailureKind.REPORT_PUBLISHING
    result.failed_run = failed_run_of(ctx.event, params.partition)
    return result


def failed_run_of(event: dict[str, Any], partition: str) -> str | None:
    """The pipeline flow run the event reports failed for this partition, if it names one.

    A pipeline's own failure event names its run; a run that failed before writing (a source
    out, a crash before the transform) leaves the partition's earlier complete state, which
    then says nothing about whether the failed run needs re-running. An event naming no run
    (sent by hand or by another system) is judged by the partition's state alone.
    """
    payload = event.get("payload") or {}
    run = payload.get("flow_run_id")
    return str(run) if run and payload.get("partition") == partition else None
