"""Step family `backfill`: put late or lost source rows back from their second copy.

`backfill.activity_logs` restores registrations and cancellations from the historical
activity logs (growth); `backfill.event_backup` restores events from backup storage
(engagement). Both fill the source-of-record table the transform reads, so the re-run after
them computes the partition from complete data. They insert only rows missing by key, one
day per transaction with bounded concurrency, and log progress per day (`warehouse.fill`):
nothing the source delivered is deleted or overwritten, rows an earlier restore of the day
inserted are replaced by the copy's current rows, and running them again adds nothing. A
damaged copy writes nothing of its day and stops the step, terminal, with file, line, day
and `runbook retry N`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from recovery_tasks.context import StepContext
from recovery_tasks.damaged_copies import naming_the_retry
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type

if TYPE_CHECKING:
    from warehouse.fill import FillProgress, Progress

logger = logging.getLogger(__name__)


class FillParams(PartitionParams):
    """Which days to fill and how many at once."""

    days: list[date] = Field(
        default_factory=list,
        description="Days to fill (default: the partition's source days the copy can fill)",
    )
    concurrency: int = Field(default=4, ge=1, le=16, description="Days filled at once")


class BackfillResult(BaseModel):
    """What was restored: the scope an approver signs off."""

    partition: str
    days: list[str]
    rows: int
    source: str
    target: str = "the source"
    rows_read: int = 0

    def evidence(self) -> str:
        """The backfill scope and where its rows went."""
        if not self.days:
            return f"No day of {self.partition} lacks rows that {self.source} hold."
        return (
            f"Restored {self.rows} rows into {self.target} for {len(self.days)} day(s) of "
            f"{self.partition} from {self.source} ({self.rows_read} read, every row checked "
            f"first; rows the source holds kept; each restored row recorded with its file "
            f"and load, so a corrected copy replaces it): {', '.join(self.days)}"
        )

    def partition_effect(self) -> tuple[str, str] | None:
        """Rows added to the source the transform reads (not to the partition itself)."""
        if not self.rows:
            return None
        return "source", f"added {self.rows} rows to {self.target} from {self.source}"


def _log_progress(step_id: str) -> Progress:
    def report(p: FillProgress) -> None:
        logger.info(
            "%s: day %s done (%d of %d), %d rows inserted so far",
            step_id, p.day, p.days_done, p.days_total, p.rows_inserted,
        )  # fmt: skip

    return report


def _gap_days(ctx: StepContext, params: FillParams, tables: tuple[str, ...]) -> list[date]:
    from warehouse.completeness import find_gaps

    report = find_gaps(ctx.run.platform(), params.pipeline_of(ctx), params.partition)
    return sorted({g.day for g in report.gaps if g.table in tables and g.second_copy})


@step_type("backfill.activity_logs", params=FillParams, result=BackfillResult)
def activity_logs(params: FillParams, ctx: StepContext) -> BackfillResult:
    """Backfill missing registrations and cancellations from the historical activity logs."""
    from warehouse.user_restore import restore_users_from_logs

    return _fill_missing_days(
        params, ctx, restore_users_from_logs,
        tables=("registrations", "subscription_cancellations"),
        source="the activity logs",
        target="the registration DB (registrations, subscription_cancellations)",
    )  # fmt: skip


@step_type("backfill.event_backup", params=FillParams, result=BackfillResult)
def event_backup(params: FillParams, ctx: StepContext) -> BackfillResult:
    """Fill missing event data from backup storage into the event stream."""
    from warehouse.event_restore import restore_events_from_backup

    return _fill_missing_days(
        params, ctx, restore_events_from_backup,
        tables=("events",),
        source="the event backup",
        target="the event stream (events)",
    )  # fmt: skip


def _fill_missing_days(
    params: FillParams,
    ctx: StepContext,
    restore: Callable[..., Any],
    *,
    tables: tuple[str, ...],
    source: str,
    target: str,
) -> BackfillResult:
    """The given days, or the gaps found in `tables`, filled by `restore` (insert-only)."""
    with naming_the_retry(ctx):
        days = params.days or _gap_days(ctx, params, tables)
        filled = (
            restore(
                ctx.run.platform(),
                days,
                concurrency=params.concurrency,
                progress=_log_progress(ctx.step_id),
            )
            if days
            else None
        )
    return BackfillResult(
        partition=params.partition,
        days=[d.isoformat() for d in days],
        rows=filled.rows_inserted if filled else 0,
        rows_read=filled.rows_read if filled else 0,
        source=source,
        target=target,
    )
