"""Annotations as part of the recovery: a person explains a real swing, and the check re-runs.

`record_annotation` is the one way a note is recorded, whether it comes from
`runbook annotate` or from the annotation gate's form: in the warehouse (where the swing check
and the dashboard feed read it) and, when the partition has an open incident, in the audit
ledger as an `annotated` event naming who and why. The checks then run again and record their
verdict, so an explained swing leaves a `complete` partition the report can be built from.

`approval.annotate` is that gate: after a `checks.data_quality` step whose only failures are
checks it may leave to a person (`annotatable:`), the run pauses with the usual Resume form;
an authorized engineer approves with the note as the comment (or rejects to stop the run).
Who may answer is the approval gate's rule, with its verification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from governance.ledger.records import IncidentState
from recovery_tasks.approval import OnCallApprovalParams
from recovery_tasks.context import StepContext
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.registry import step_type

if TYPE_CHECKING:
    from governance.ledger.audit_ledger import Ledger


class AnnotationOutcome(BaseModel):
    """A recorded annotation, and the checks' verdict after it."""

    pipeline: str
    partition: str
    author: str
    note: str
    incident_id: int | None = None
    still_failing: list[str] = Field(default_factory=list)


def record_annotation(
    platform: Any,
    ledger: Ledger,
    pipeline: str,
    partition: str,
    note: str,
    author: str,
    *,
    incident_id: int | None = None,
    proof: str | None = None,
) -> AnnotationOutcome:
    """Record the note (warehouse and ledger), then re-run the partition's checks.

    `proof` says how the author's identity was established (their code, or a typed name in
    the local profile); the audit shows it beside who and why."""
    from warehouse.annotations import annotate
    from warehouse.checks import run_checks

    if not note.strip():
        raise ValueError("an annotation needs a note saying why the numbers moved")
    annotate(platform, pipeline, partition, note.strip(), author)
    if incident_id is None:
        incident = ledger.keys.open_incident_of(pipeline, partition)
        incident_id = incident.id if incident is not None else None
    if incident_id is not None:
        detail = {"partition": partition, "note": note.strip()}
        if proof:
            detail["proof"] = proof
        ledger.incidents.record_state(
            incident_id, IncidentState.ANNOTATED, actor=author, detail=detail
        )
    results = run_checks(platform, pipeline, partition)
    failing = [r.name for r in results if not r.passed and r.blocking]
    return AnnotationOutcome(
        pipeline=pipeline,
        partition=partition,
        author=author,
        note=note.strip(),
        incident_id=incident_id,
        still_failing=failing,
    )


def proof_of(codes_required: bool, code: str) -> str:
    """How an annotator was identified, for the audit."""
    return f"their {code}" if codes_required else "the name as typed, local profile"


class AnnotateParams(OnCallApprovalParams):
    """Which data-quality step's annotatable failures this gate asks about."""

    model_config = ConfigDict(extra="forbid")

    checks_step: str = Field(
        default="quality", description="id of the checks.data_quality step before this gate"
    )


class AnnotationResult(BaseModel):
    """Who annotated and why (empty when nothing needed an annotation)."""

    annotators: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)

    def evidence(self) -> str:
        """A line for later gates and the audit."""
        if not self.annotators:
            return "No annotation needed: every check passed."
        return (
            f"{', '.join(self.checks)} annotated by {', '.join(self.annotators)}: "
            + "; ".join(f"“{n}”" for n in self.notes)
            + "; the checks passed again."
        )


@step_type("approval.annotate", params=AnnotateParams, result=AnnotationResult, role="approval")
async def annotate_gate(params: AnnotateParams, ctx: StepContext) -> AnnotationResult:
    """Pause for an annotation when the only failing checks are ones a person may explain."""
    import anyio

    upstream = ctx.steps.get(params.checks_step)
    needs = list(((upstream.outputs if upstream else None) or {}).get("needs_annotation", []))
    if not needs:
        return AnnotationResult()
    outcome = await ctx.run.gate(params, ctx)
    note = next((c for c in outcome.comments if c.strip()), "")
    if not note:
        raise TerminalStepError(
            f"{', '.join(needs)} needs an annotation and the answer carried no note: approve "
            "with the reason in the comment, or annotate with `runbook annotate` and retry"
        )
    services = ctx.run
    recorded = await anyio.to_thread.run_sync(
        lambda: record_annotation(
            services.platform(),
            services.ledger,
            ctx.pipeline,
            str(ctx.params.get("partition") or ctx.incident.get("partition")),
            note,
            outcome.approvers[0],
            incident_id=ctx.incident.get("id"),
            proof=proof_of(services.settings.approval.codes_required, "approval code"),
        )
    )
    if recorded.still_failing:
        raise TerminalStepError(
            f"annotated, but checks still fail: {', '.join(recorded.still_failing)}"
        )
    return AnnotationResult(annotators=outcome.approvers, notes=[note], checks=needs)
