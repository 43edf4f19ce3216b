"""Shared pieces of step params: strictness, and the pipeline/partition every step scopes to."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from recovery_tasks.context import StepContext


class StepParams(BaseModel):
    """Base of every built-in step's params: unknown keys in `with:` are errors."""

    model_config = ConfigDict(extra="forbid")


class PartitionParams(StepParams):
    """A step scoped to one partition of a pipeline (the runbook's pipeline by default)."""

    partition: str = Field(description="Partition key: 2026-10 (month), 2026-W43, 2026-10-14")
    pipeline: str | None = Field(default=None, description="Defaults to the runbook's pipeline")

    def pipeline_of(self, ctx: StepContext) -> str:
        """The pipeline this step works on."""
        return self.pipeline or ctx.pipeline
