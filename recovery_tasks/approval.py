"""Step family `approval`: gates that pause the run until an authorized engineer answers.

`approval.on_call` shows the evidence in the Prefect UI (the paused run's Resume form) and
continues only after `min_approvals` distinct authorized approvals. The waiting itself is the
run's gate service (`ctx.services.gate`, provided by `flows.approval.gate`). Its result records
what the approver saw (every report and feed digest built before it); with `reuse_approval`, a
retried incident whose reports and feeds all equal ones already approved in an earlier run of
the same incident does not pause again (`recovery_tasks.approval_reuse`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from foundation.durations import Duration
from recovery_tasks.approval_reuse import earlier_approval, seen_bytes
from recovery_tasks.context import StepContext
from recovery_tasks.registry import step_type


class OnCallApprovalParams(BaseModel):
    """Who may answer and how the gate waits (the step's own `timeout:` bounds the wait)."""

    model_config = ConfigDict(extra="forbid")

    pipeline: str | None = Field(
        default=None,
        description="The pipeline whose on-call engineers and owners answer (default: the "
        "runbook's); required when the publication after this gate is another pipeline's",
    )
    approvers: list[str] | None = Field(
        default=None, description="Only these may approve (default: on-call now and owners)"
    )
    also: list[str] = Field(default_factory=list, description="May approve as well")
    min_approvals: int = Field(default=1, ge=1, le=4, description="Distinct approvers needed")
    escalate_after: Duration | None = Field(
        default=None, description="Notify backup and owners after this long without an answer"
    )
    poll_interval: int = Field(
        default=1, ge=1, le=60, description="Seconds between checks while paused in its process"
    )
    reuse_approval: bool = Field(
        default=False,
        description="On a retry of the incident, an earlier approval counts again when every "
        "report and dashboard feed built before this gate equals, by sha256, what it saw",
    )


class ApprovalResult(BaseModel):
    """Who approved, with their comments."""

    decision: str = "approved"
    approvers: list[str]
    comments: list[str] = Field(default_factory=list)
    request_id: int | None = None
    reused_from: str | None = None  # the earlier run of the incident whose approval counts
    saw: dict[str, str] = Field(default_factory=dict)  # `step.output` -> sha256 of its bytes

    def evidence(self) -> str:
        """A line for the audit and later gates."""
        if self.reused_from:
            return (
                f"approved by {', '.join(self.approvers)} in run {self.reused_from} of this "
                "incident, for these very bytes (no second approval asked)"
            )
        return f"approved by {', '.join(self.approvers)}"


@step_type("approval.on_call", params=OnCallApprovalParams, result=ApprovalResult, role="approval")
async def on_call(params: OnCallApprovalParams, ctx: StepContext) -> ApprovalResult:
    """Pause for the on-call engineer's approval, with the evidence in the Prefect UI."""
    saw = seen_bytes(ctx)
    reused = _reuse(params, ctx, saw)
    if reused is not None:
        return reused
    outcome = await ctx.run.gate(params, ctx)
    return ApprovalResult(
        approvers=outcome.approvers,
        comments=outcome.comments,
        request_id=outcome.request_id,
        saw=saw,
    )


def _reuse(
    params: OnCallApprovalParams, ctx: StepContext, saw: dict[str, str]
) -> ApprovalResult | None:
    """The incident's earlier approval of the same bytes, recorded as counting again."""
    incident_id = ctx.incident.get("id")
    if not params.reuse_approval or not incident_id:
        return None
    services = ctx.run
    earlier = earlier_approval(services.ledger, int(incident_id), saw, ctx.flow_run_id)
    if earlier is None or len(earlier.approvers) < params.min_approvals:
        return None
    services.recorder.state(
        "approved",
        actor=",".join(earlier.approvers),
        detail={"reused_from": earlier.flow_run_id, "sha256": saw},
    )
    return ApprovalResult(
        approvers=earlier.approvers,
        comments=[f"approval of run {earlier.flow_run_id} reused: every report and feed identical"],
        reused_from=earlier.flow_run_id,
        saw=saw,
    )
