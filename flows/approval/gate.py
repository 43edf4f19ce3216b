"""The approval gate's loop: pause with the evidence, rule on the answer, pause again if needed.

What an answer counts for is decided by `flows.approval.decision` (a pure function); this module
does the waiting and the telling. Each pause has its own key, so an answer reaches exactly one
pause and a late answer finds nothing to resume. Everything that blocks (ledger writes through
the incident recorder, webhook and SMTP notifications) runs in a worker thread, off the flow's
event loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import anyio
from prefect import get_run_logger
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run

from flows.approval.answer import ApprovalAnswer
from flows.approval.decision import Answer, ApproverRules, Verdict, approver_rules, decide
from flows.approval.escalation import arm_escalation, disarm_escalation
from flows.approval.evidence import evidence_markdown
from governance.incident_recorder import IncidentRecorder
from governance.ledger_records import ApprovalRequest, IncidentState
from governance.models import GovernanceConfig
from governance.responders import notify_targets
from recovery_tasks.context import StepContext
from recovery_tasks.errors import GateClosed
from recovery_tasks.services import RunServices

T = TypeVar("T")


@dataclass(frozen=True)
class GatePolicy:
    """What this gate needs: who may answer, how many, how long, when to escalate."""

    rules: ApproverRules
    timeout: timedelta
    escalate_after: timedelta
    poll_interval: int


@dataclass
class GateOutcome:
    """How the gate ended when it opened."""

    approvers: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    request_id: int | None = None


def gate_policy(
    config: GovernanceConfig, ctx: StepContext, params: Any, now: datetime
) -> GatePolicy:
    """The policy of an approval step (`params`: approvers, also, min_approvals, ...) at `now`."""
    rules = approver_rules(
        config,
        ctx.pipeline,
        now,
        only=params.approvers,
        also=params.also,
        min_approvals=params.min_approvals,
        started_by=ctx.triggered_by,
    )
    return GatePolicy(
        rules=rules,
        timeout=ctx.timeout or timedelta(hours=2),
        escalate_after=params.escalate_after or config.escalate_after(ctx.pipeline),
        poll_interval=params.poll_interval,
    )


async def _off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call (database, HTTP, SMTP) in a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


async def run_gate(ctx: StepContext, policy: GatePolicy, services: RunServices) -> GateOutcome:
    """Pause until enough authorized approvals arrive; raise GateClosed otherwise."""
    story = services.story()
    notifier = services.notifier()
    incident_id = ctx.incident.get("id")
    now = datetime.now(UTC)
    deadline = now + policy.timeout
    ui_url = services.ui_url
    run_link = f"{ui_url}/runs/flow-run/{ctx.flow_run_id}" if ui_url else ctx.flow_run_id
    targets = notify_targets(services.governance, ctx.pipeline, now)
    request = await _off_loop(
        story.approval_requested,
        f"{ctx.step_id}-1",
        policy.rules.authorized,
        min_approvals=policy.rules.min_approvals,
        escalate_at=now + policy.escalate_after,
        timeout_at=deadline,
        step_id=ctx.step_id,
    )
    await _off_loop(story.state, IncidentState.AWAITING_APPROVAL, detail={"step": ctx.step_id})
    await _off_loop(
        notifier.notify_all,
        targets.first,
        "approval_requested",
        f"{ctx.pipeline}: recovery of incident {incident_id} waits for your approval: {run_link}",
        incident_id=incident_id,
    )
    automation = await arm_escalation(
        services.governance,
        str(ctx.flow_run_id),
        list(targets.escalation),
        policy.escalate_after,
        subject=f"Escalation: {ctx.pipeline} approval unanswered",
        body=f"Nobody has answered the approval of {ctx.pipeline} (incident {incident_id}) "
        f"for {policy.escalate_after}. Please review: {run_link}",
    )
    try:
        verdict = await _collect_answers(ctx, policy, story, request, deadline)
    finally:
        await disarm_escalation(automation)
    if verdict.outcome == "rejected" and verdict.rejection is not None:
        who, comment = verdict.rejection.who, verdict.rejection.comment
        await _off_loop(story.state, IncidentState.REJECTED, actor=who, detail={"comment": comment})
        raise GateClosed(
            f"rejected by {who}: {comment or 'no comment'}",
            {"decision": "rejected", "by": who, "comment": comment},
        )
    if verdict.outcome != "approved":
        await _off_loop(story.state, IncidentState.TIMED_OUT, detail={"after": str(policy.timeout)})
        await _off_loop(
            notifier.notify_all,
            [*targets.first, *targets.escalation],
            "approval_timed_out",
            f"{ctx.pipeline}: nobody approved within {policy.timeout}; nothing "
            f"was published and incident {incident_id} stays open: {run_link}",
            incident_id=incident_id,
        )
        raise GateClosed(
            f"no authorized approval within {policy.timeout}; nothing published",
            {"decision": "timed_out"},
        )
    await _off_loop(
        story.state,
        IncidentState.APPROVED,
        actor=",".join(verdict.approvers),
        detail={"by": verdict.approvers},
    )
    return GateOutcome(verdict.approvers, verdict.comments, request.id if request else None)


async def _collect_answers(
    ctx: StepContext,
    policy: GatePolicy,
    story: IncidentRecorder,
    request: ApprovalRequest | None,
    deadline: datetime,
) -> Verdict:
    """Pause for answers, recording each with its ruling, until the verdict is not `waiting`."""
    logger = get_run_logger()
    rules = policy.rules
    answers: list[Answer] = []
    verdict = decide(rules, answers)
    while verdict.outcome == "waiting":
        left = (deadline - datetime.now(UTC)).total_seconds()
        if left <= 0:
            return decide(rules, answers, timed_out=True)
        evidence = await _off_loop(
            evidence_markdown,
            ctx,
            list(rules.authorized),
            rules.min_approvals,
            verdict.approvers,
            verdict.notes,
        )
        form = ApprovalAnswer.with_initial_data(description=evidence, decision="approve")
        try:
            given = await pause_flow_run(
                wait_for_input=form,
                timeout=max(int(left), 1),
                poll_interval=policy.poll_interval,
                key=f"{ctx.step_id}-{len(answers) + 1}",
            )
        except FlowPauseTimeout:
            return decide(rules, answers, timed_out=True)
        answer = Answer(given.approver.strip(), given.decision, given.comment)
        answers.append(answer)
        verdict = decide(rules, answers)
        ruling = verdict.rulings[-1]
        await _off_loop(
            story.answer,
            request,
            answer.who,
            answer.decision,
            refusal=ruling.refusal,
            comment=answer.comment,
        )
        if ruling.refusal is not None:
            logger.warning("answer refused: %s", ruling.refusal)
            await _off_loop(
                story.state,
                IncidentState.ANSWER_REFUSED,
                actor=answer.who,
                detail={"who": answer.who, "reason": ruling.refusal},
            )
        elif answer.decision == "approve":
            logger.info(
                "approved by %s (%d of %d)", answer.who, len(verdict.approvals), rules.min_approvals
            )
    return verdict


async def on_call_gate(params: Any, ctx: StepContext) -> GateOutcome:
    """The run's approval gate service: policy from the run's governance snapshot, then wait.

    `params` is the approval step's params (approvers, also, min_approvals, escalate_after,
    poll_interval); the step type in `recovery_tasks.approval` calls this through its context.
    """
    services = ctx.run
    policy = gate_policy(services.governance, ctx, params, datetime.now(UTC))
    return await run_gate(ctx, policy, services)
