"""Step family `notify`: tell people, e.g. from a runbook's `on_failure` handlers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from governance.notification.messages import runbook_notice
from governance.oncall.responders import notify_targets
from recovery_tasks.context import StepContext
from recovery_tasks.params import StepParams
from recovery_tasks.registry import step_type


class NotifyParams(StepParams):
    """Whom to tell and what."""

    to: Literal["on_call", "owners", "everyone"] = Field(
        default="on_call", description="Who: the on-call engineers, the owners, or everyone"
    )
    message: str = Field(description="What to say (templates can quote step results)")


class NotifyResult(BaseModel):
    """Who was reached on which channel."""

    delivered: list[str]
    undelivered: list[str]


@step_type("notify.engineers", params=NotifyParams, result=NotifyResult)
def engineers(params: NotifyParams, ctx: StepContext) -> NotifyResult:
    """Notify the on-call engineers and/or the pipeline's owners (webhook or email)."""
    config = ctx.run.governance
    targets = notify_targets(config, ctx.pipeline, datetime.now(UTC))
    on_call = list(targets.on_call_people) or list(targets.first)  # owners in a gap
    people = {
        "on_call": on_call,
        "owners": list(config.pipeline(ctx.pipeline).owners),
        "everyone": [*targets.first, *targets.escalation],
    }[params.to]
    # an on_failure handler is not among the runbook's steps: it speaks for a failed recovery
    failed = ctx.step_id not in ctx.uses
    message = runbook_notice(
        ctx.runbook, ctx.pipeline, ctx.incident.get("id"), params.message, failed=failed
    )
    sent = ctx.run.notifier().send(message, people)
    return NotifyResult(
        delivered=[f"{n.recipient} ({n.channel})" for n in sent if n.delivered],
        undelivered=[f"{n.recipient} ({n.channel}): {n.detail}" for n in sent if not n.delivered],
    )
