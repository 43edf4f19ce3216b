"""Step family `backfill`: put back data the warehouse is missing.

`backfill.activity_logs` finds the partition's days with source data but no warehouse rows
and rebuilds them from the historical activity logs; `backfill.event_backup` restores the
event stream's days from backup storage. Both only insert rows missing by key, one day per
transaction (`warehouse.backfill`): nothing that is already there is deleted or overwritten.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from recovery_tasks.context import StepContext
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type


class BackfillResult(BaseModel):
    """What was restored: the scope an approver signs off."""

    partition: str
    days: list[str]
    rows: int
    source: str

    def evidence(self) -> str:
        """The backfill scope."""
        if not self.days:
            return f"No missing days in {self.partition}; nothing restored from {self.source}."
        return (
            f"Restored {self.rows} rows for {len(self.days)} day(s) of {self.partition} "
            f"from {self.source}: {', '.join(self.days)}"
        )


@step_type("backfill.activity_logs", params=PartitionParams, result=BackfillResult)
def activity_logs(params: PartitionParams, ctx: StepContext) -> BackfillResult:
    """Identify missing days in the warehouse and backfill them from historical logs."""
    from warehouse.recovery import backfill_from_activity_logs, missing_days

    platform = ctx.run.platform()
    pipeline = params.pipeline_of(ctx)
    days = missing_days(platform, pipeline, params.partition)
    filled = backfill_from_activity_logs(platform, days) if days else None
    return BackfillResult(
        partition=params.partition,
        days=[d.isoformat() for d in days],
        rows=filled.rows_inserted if filled else 0,
        source="activity logs",
    )


class EventBackupParams(PartitionParams):
    """Days to restore (default: the partition's days missing from the warehouse)."""

    days: list[date] = Field(
        default_factory=list, description="Days to restore (default: the missing ones)"
    )


@step_type("backfill.event_backup", params=EventBackupParams, result=BackfillResult)
def event_backup(params: EventBackupParams, ctx: StepContext) -> BackfillResult:
    """Fill missing event data from backup storage."""
    from warehouse.recovery import missing_days, restore_events_from_backup

    platform = ctx.run.platform()
    days = params.days or missing_days(platform, params.pipeline_of(ctx), params.partition)
    filled = restore_events_from_backup(platform, days) if days else None
    return BackfillResult(
        partition=params.partition,
        days=[d.isoformat() for d in days],
        rows=filled.rows_inserted if filled else 0,
        source="event backup storage",
    )
