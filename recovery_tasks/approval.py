"""Step family `approval`: gates that pause the run until an authorized engineer answers.

`approval.on_call` shows the evidence in the Prefect UI (the paused run's Resume form) and
continues only after `min_approvals` distinct authorized approvals. The waiting itself is the
run's gate service (`ctx.services.gate`, provided by `flows.approval.gate`). With
`reuse_approval_of` (and `reuse_approval_of_feed`), a retried incident whose report bytes
(and dashboard feed) equal ones already approved in an earlier run of the same incident does
not pause again (`recovery_tasks.approval_reuse`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from foundation.durations import Duration
from recovery_tasks.approval_reuse import earlier_approval
from recovery_tasks.context import StepContext
from recovery_tasks.errors import TerminalStepError
from recovery_tasks.registry import step_type


class OnCallApprovalParams(BaseModel):
    """Who may answer and how the gate waits (the step's own `timeout:` bounds the wait)."""

    model_config = ConfigDict(extra="forbid")

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
    reuse_approval_of: str | None = Field(
        default=None,
        description="sha256 of the report (a template of the report step's outputs): an "
        "approval of exactly these bytes earlier in the same incident counts again",
    )
    reuse_approval_of_feed: str | None = Field(
        default=None,
        description="sha256 of the dashboard feed (the report step's feed_sha256): with "
        "reuse_approval_of, the earlier approval counts only if it saw this feed too",
    )


class ApprovalResult(BaseModel):
    """Who approved, with their comments."""

    decision: str = "approved"
    approvers: list[str]
    comments: list[str] = Field(default_factory=list)
    request_id: int | None = None
    reused_from: str | None = None  # the earlier run of the incident whose approval counts

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
    reused = _reuse(params, ctx)
    if reused is not None:
        return reused
    gate = ctx.run.gate
    if gate is None:
        raise TerminalStepError(f"step {ctx.step_id}: this run has no approval gate service")
    outcome = await gate(params, ctx)
    return ApprovalResult(
        approvers=outcome.approvers, comments=outcome.comments, request_id=outcome.request_id
    )


def _reuse(params: OnCallApprovalParams, ctx: StepContext) -> ApprovalResult | None:
    """The incident's earlier approval of the same bytes, recorded as counting again."""
    incident_id = ctx.incident.get("id")
    if not params.reuse_approval_of or not incident_id:
        return None
    services = ctx.run
    earlier = earlier_approval(
        services.ledger,
        int(incident_id),
        params.reuse_approval_of,
        ctx.flow_run_id,
        feed_sha256=params.reuse_approval_of_feed,
    )
    if earlier is None or len(earlier.approvers) < params.min_approvals:
        return None
    if services.recorder is not None:
        services.recorder.state(
            "approved",
            actor=",".join(earlier.approvers),
            detail={"reused_from": earlier.flow_run_id, "sha256": params.reuse_approval_of},
        )
    return ApprovalResult(
        approvers=earlier.approvers,
        comments=[f"approval of run {earlier.flow_run_id} reused: identical report bytes"],
        reused_from=earlier.flow_run_id,
    )
