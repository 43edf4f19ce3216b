"""Step family `approval`: gates that pause the run until an authorized engineer answers.

`approval.on_call` shows the evidence in the Prefect UI (the paused run's Resume form) and
continues only after `min_approvals` distinct authorized approvals. The waiting itself is the
run's gate service (`ctx.services.gate`, provided by `flows.approval.gate`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from foundation.durations import Duration
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


class ApprovalResult(BaseModel):
    """Who approved, with their comments."""

    decision: str = "approved"
    approvers: list[str]
    comments: list[str] = Field(default_factory=list)
    request_id: int | None = None

    def evidence(self) -> str:
        """A line for the audit and later gates."""
        return f"approved by {', '.join(self.approvers)}"


@step_type("approval.on_call", params=OnCallApprovalParams, result=ApprovalResult, role="approval")
async def on_call(params: OnCallApprovalParams, ctx: StepContext) -> ApprovalResult:
    """Pause for the on-call engineer's approval, with the evidence in the Prefect UI."""
    gate = ctx.run.gate
    if gate is None:
        raise TerminalStepError(f"step {ctx.step_id}: this run has no approval gate service")
    outcome = await gate(params, ctx)
    return ApprovalResult(
        approvers=outcome.approvers, comments=outcome.comments, request_id=outcome.request_id
    )
