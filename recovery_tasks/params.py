"""Shared pieces of step params: strictness, and the pipeline/partition every step scopes to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from recovery_tasks.context import StepContext

if TYPE_CHECKING:
    from warehouse.calendar import Partition
    from warehouse.pipelines import Pipeline


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

    def target(self, ctx: StepContext) -> tuple[Pipeline, Partition]:
        """The pipeline and the partition key parsed at its grain in the run's warehouse
        calendar: the one parse of the key; warehouse functions take these values."""
        from warehouse.pipelines import resolve

        calendar = ctx.run.platform().config.fiscal_calendar
        return resolve(self.pipeline_of(ctx), self.partition, calendar)
