"""Step family `data`: find what data is missing, against an independent expectation.

`data.find_missing` lists the partition's days that are missing or incomplete: in a source,
against the source's own announced row counts (its manifests); in the warehouse, against the
source days that have rows. For each source gap it says whether a second copy can fill it
(activity logs for registrations and cancellations, the event backup for events) and how
many rows that copy holds, so the approver sees the backfill's scope before it runs and later
steps (`backfill.*`, `sources.wait`) know which days to work on. It only reads.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from recovery_tasks.context import StepContext
from recovery_tasks.damaged_copies import naming_the_retry
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type


class Gap(BaseModel):
    """One day of one table with fewer rows than expected."""

    where: str
    table: str
    day: date
    expected: int
    actual: int
    expectation: str
    second_copy: str | None = None
    copy_rows: int | None = None


class MissingDataResult(BaseModel):
    """The partition's gaps, and the days later steps work on."""

    partition: str
    gaps: list[Gap] = Field(default_factory=list)
    source_days: list[date] = Field(default_factory=list)
    warehouse_days: list[date] = Field(default_factory=list)
    fillable_days: list[date] = Field(default_factory=list)
    unfillable_days: list[date] = Field(default_factory=list)

    def evidence(self) -> str:
        """The gaps as a table."""
        if not self.gaps:
            return f"No day of {self.partition} is missing or incomplete."
        lines = [
            "| where | table | day | rows | expected (from) | second copy |",
            "|---|---|---|---|---|---|",
        ]
        for g in self.gaps:
            copy = f"{g.second_copy}: {g.copy_rows} rows" if g.second_copy else "none"
            lines.append(
                f"| {g.where} | {g.table} | {g.day} | {g.actual} | {g.expected} "
                f"({g.expectation}) | {copy} |"
            )
        return "\n".join(lines)


@step_type("data.find_missing", params=PartitionParams, result=MissingDataResult)
def find_missing(params: PartitionParams, ctx: StepContext) -> MissingDataResult:
    """Find the partition's days missing or incomplete in the sources and the warehouse."""
    from warehouse.completeness import find_gaps

    with naming_the_retry(ctx):  # counting a second copy's rows reads (and checks) it
        report = find_gaps(ctx.run.platform(), *params.target(ctx))
    source = [g for g in report.gaps if g.where == "source"]
    return MissingDataResult(
        partition=params.partition,
        gaps=[Gap(**g.__dict__) for g in report.gaps],
        source_days=report.days(),
        warehouse_days=report.days(where="warehouse"),
        fillable_days=sorted({g.day for g in source if g.second_copy}),
        unfillable_days=sorted({g.day for g in source if not g.second_copy}),
    )
