"""Step family `checks`: validate the recovered partition before anyone is asked to approve.

`checks.source_counts` compares the warehouse's measure with the source DB; `checks.data_quality`
runs the pipeline's checks (each a query whose rows are the failures). Both fail the step on
a blocking problem, so the approver never sees a gate for data that is known to be wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from recovery_tasks.context import StepContext
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.params import PartitionParams
from recovery_tasks.registry import step_type


class SourceCountsParams(PartitionParams):
    """Fail on a mismatch unless told to only report it."""

    fail_on_mismatch: bool = Field(
        default=True, description="Fail the step on a mismatch (false: only report it)"
    )


class SourceCountsResult(BaseModel):
    """The pipeline's measure in the source and in the warehouse."""

    pipeline: str
    partition: str
    measure: str
    source: int
    warehouse: int
    matches: bool

    def evidence(self) -> str:
        """Counts side by side."""
        verdict = "match" if self.matches else "**DO NOT MATCH**"
        return (
            f"| {self.measure} | source DB | warehouse |\n|---|---|---|\n"
            f"| {self.partition} | {self.source} | {self.warehouse} |\n\nCounts {verdict}."
        )


@step_type("checks.source_counts", params=SourceCountsParams, result=SourceCountsResult)
def source_counts(params: SourceCountsParams, ctx: StepContext) -> SourceCountsResult:
    """Validate the warehouse against the source DB's counts for the partition."""
    from warehouse.source_counts import source_counts as count

    counts = count(ctx.run.platform(), *params.target(ctx))
    result = SourceCountsResult(
        pipeline=counts.pipeline,
        partition=counts.partition,
        measure=counts.measure,
        source=counts.source,
        warehouse=counts.warehouse,
        matches=counts.matches,
    )
    if params.fail_on_mismatch and not counts.matches:
        raise TerminalStepError(
            f"{counts.measure} for {counts.partition}: source has "
            f"{counts.source}, warehouse has {counts.warehouse}"
        )
    return result


class DataQualityParams(PartitionParams):
    """Blocking checks fail the step unless `warn_only`."""

    warn_only: bool = Field(
        default=False, description="Report failing checks without failing the step"
    )
    annotatable: list[str] = Field(
        default_factory=list,
        description="Checks a person may answer with an annotation (e.g. no_unannotated_swing): "
        "when only these fail, the step completes with them in `needs_annotation` for an "
        "`approval.annotate` gate instead of failing",
    )


class CheckOutcome(BaseModel):
    """One check: passed or its failing rows (first 50)."""

    name: str
    passed: bool
    blocking: bool
    kind: str
    failing_count: int = 0
    failing_rows: list[dict[str, Any]] = Field(default_factory=list)
    description: str = ""


class DataQualityResult(BaseModel):
    """Every check of the pipeline on the partition."""

    partition: str
    passed: bool
    checks: list[CheckOutcome]
    needs_annotation: list[str] = Field(default_factory=list)
    annotation_codes_to: list[str] = Field(
        default_factory=list, description="Engineers sent their own annotation code"
    )

    def evidence(self) -> str:
        """A table of checks and the failing rows of those that failed."""
        lines = ["| check | result | failing rows |", "|---|---|---|"]
        for check in self.checks:
            mark = "✅ pass" if check.passed else ("❌ FAIL" if check.blocking else "⚠️ warn")
            lines.append(f"| {check.name} | {mark} | {check.failing_count} |")
        if self.needs_annotation:
            lines += [
                "",
                f"**Needs an annotation**: {', '.join(self.needs_annotation)} failed and a "
                "person may explain it (a launch, a campaign): the annotation gate asks for it.",
            ]
        if self.annotation_codes_to:
            lines.append(
                f"Annotation codes sent to {', '.join(self.annotation_codes_to)} (each their own, "
                "for `runbook annotate`)."
            )
        for check in self.checks:
            if check.failing_rows:
                lines += ["", f"**{check.name}** failing rows:", "", "```"]
                lines += [str(row) for row in check.failing_rows[:10]]
                lines.append("```")
        return "\n".join(lines)


@step_type("checks.data_quality", params=DataQualityParams, result=DataQualityResult)
def data_quality(params: DataQualityParams, ctx: StepContext) -> DataQualityResult:
    """Run the pipeline's data-quality checks on the partition; blocking failures fail."""
    from warehouse.checks import run_checks

    results = run_checks(ctx.run.platform(), *params.target(ctx))
    outcomes = [
        CheckOutcome(
            name=r.name,
            passed=r.passed,
            blocking=r.blocking,
            kind=str(r.kind),
            failing_count=r.failing_count,
            failing_rows=r.failing_rows,
            description=r.description,
        )
        for r in results
    ]
    blocking = [c.name for c in outcomes if not c.passed and c.blocking]
    if blocking and set(blocking) <= set(params.annotatable):
        return DataQualityResult(
            partition=params.partition,
            passed=False,
            checks=outcomes,
            needs_annotation=blocking,
            annotation_codes_to=_send_annotation_codes(
                ctx, params.pipeline_of(ctx), params.partition, blocking
            ),
        )
    if blocking and not params.warn_only:
        raise TerminalStepError(
            f"blocking checks failed on {params.partition}: {', '.join(blocking)}"
        )
    return DataQualityResult(partition=params.partition, passed=not blocking, checks=outcomes)


def _send_annotation_codes(
    ctx: StepContext, pipeline: str, partition: str, checks: list[str]
) -> list[str]:
    """Send each engineer who may annotate the pipeline their own code for this partition."""
    from governance.annotation_codes import AnnotationCodes
    from governance.oncall.responders import authorized_approvers

    now = datetime.now(UTC)
    engineers = sorted(authorized_approvers(ctx.run.governance, pipeline, now))
    sent = AnnotationCodes.of(ctx.run.settings.approval).send(
        ctx.run.notifier(),
        engineers,
        pipeline=pipeline,
        partition=partition,
        checks=checks,
        incident_id=ctx.incident.get("id"),
        now=now,
    )
    return sorted({n.recipient for n in sent if n.delivered})
